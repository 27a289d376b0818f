import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { HeldarConfig } from '../config/heldar-config';
import { ApiKeysService } from './api-keys.service';
import { Authenticated, FleetOnly, Public, RequireCapability } from './decorators';
import {
  ApiKeyDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
  CreateUserDto,
  LoginDto,
  LoginResponseDto,
  MeDto,
  UpdateApiKeyDto,
  UpdateUserDto,
  UserDto,
} from './dto/auth.dto';
import { Principal } from './principal';
import { extractToken, SESSION_COOKIE } from './principal-resolver';
import { UsersService } from './users.service';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    private readonly users: UsersService,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  @Post('login')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: 'Log in: a session token, also set as the heldar_session cookie' })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiUnauthorizedResponse({ description: 'invalid credentials (the same answer for every failure)' })
  @ApiTooManyRequestsResponse({ description: 'too many attempts from this address' })
  async login(
    @Body() dto: LoginDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<LoginResponseDto> {
    const { token, expiresAt, user } = await this.users.login(
      dto.username,
      dto.password,
      req.socket.remoteAddress ?? '?',
    );
    res.cookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.authCookieSecure,
      path: '/',
      maxAge: this.config.sessionTtlHours * 3_600_000,
    });
    return { token, expires_at: expiresAt, user };
  }

  @Post('logout')
  @HttpCode(204)
  @Public()
  @ApiNoContentResponse({ description: 'the session ends; the cookie is cleared' })
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.users.logout(extractToken(req));
    res.clearCookie(SESSION_COOKIE, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.authCookieSecure,
      path: '/',
    });
  }

  @Get('me')
  @Authenticated()
  @ApiOkResponse({ type: MeDto })
  me(@Principal() p: Principal): MeDto {
    return {
      id: p.id,
      name: p.name,
      role: p.role,
      kind: p.kind,
      capabilities: [...p.capabilities],
      camera_scope: p.cameraScope === 'all' ? 'all' : [...p.cameraScope],
    };
  }
}

@ApiTags('users')
@Controller('api/v1/users')
@RequireCapability('admin')
@FleetOnly()
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOkResponse({ type: [UserDto] })
  getAll(): Promise<UserDto[]> {
    return this.users.list();
  }

  @Post()
  @ApiCreatedResponse({ type: UserDto })
  create(@Principal() p: Principal, @Body() dto: CreateUserDto): Promise<UserDto> {
    return this.users.create(p, dto);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a user; a new password or deactivation ends their sessions' })
  @ApiOkResponse({ type: UserDto })
  update(@Principal() p: Principal, @Param('id') id: string, @Body() dto: UpdateUserDto): Promise<UserDto> {
    return this.users.update(p, id, dto);
  }

  @Post(':id/unlock')
  @HttpCode(200)
  @ApiOkResponse({ type: UserDto })
  unlock(@Principal() p: Principal, @Param('id') id: string): Promise<UserDto> {
    return this.users.unlock(p, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  delete(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    return this.users.delete(p, id);
  }
}

@ApiTags('api-keys')
@Controller('api/v1/api-keys')
@RequireCapability('admin')
@FleetOnly()
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Get()
  @ApiOkResponse({ type: [ApiKeyDto] })
  getAll(): Promise<ApiKeyDto[]> {
    return this.keys.list();
  }

  @Post()
  @ApiOperation({ summary: 'Mint an API key (shown once)' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  create(@Principal() p: Principal, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.keys.create(p, dto);
  }

  @Patch(':id')
  @ApiOkResponse({ type: ApiKeyDto })
  update(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateApiKeyDto,
  ): Promise<ApiKeyDto> {
    return this.keys.update(p, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  delete(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    return this.keys.delete(p, id);
  }
}
