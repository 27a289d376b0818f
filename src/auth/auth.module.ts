import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { HeldarModule } from '../common/heldar-module.decorator';
import { ApiKeysService } from './api-keys.service';
import { ApiKeysController, AuthController, UsersController } from './auth.controller';
import { AuthRepository } from './auth.repository';
import { CapabilityGuard } from './capability.guard';
import { PrincipalResolver } from './principal-resolver';
import { UsersService } from './users.service';
import { AuditModule } from '../audit/audit.module';

@HeldarModule({ id: 'auth', name: 'Auth', description: 'Users, sessions, API keys, capabilities' })
@Module({
  imports: [AuditModule],
  controllers: [AuthController, UsersController, ApiKeysController],
  providers: [
    AuthRepository,
    PrincipalResolver,
    UsersService,
    ApiKeysService,
    { provide: APP_GUARD, useClass: CapabilityGuard },
  ],
  exports: [PrincipalResolver, ApiKeysService],
})
export class AuthModule {}
