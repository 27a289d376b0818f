import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CapabilityGuard } from './capability.guard';
import { PrincipalResolver } from './principal-resolver';

@Global()
@Module({
  providers: [PrincipalResolver, { provide: APP_GUARD, useClass: CapabilityGuard }],
  exports: [PrincipalResolver],
})
export class AuthModule {}
