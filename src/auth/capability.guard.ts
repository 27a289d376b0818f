import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { HeldarConfig } from '../config/heldar-config';
import { ForbiddenError, UnauthorizedError } from '../common/errors';
import { SecretBox } from '../common/secret-box';
import { nodeAuthKey, verifyNodeRequest } from '../cluster/node-auth';
import type { Capability } from './capabilities';
import { AUTHENTICATED_KEY, CAPABILITY_KEY, FLEET_KEY, NODE_ONLY_KEY, PUBLIC_KEY } from './decorators';
import { assertCameraScope, assertFleet, hasCapability, PRINCIPAL_KEY, SYSTEM_PRINCIPAL } from './principal';
import { PrincipalResolver } from './principal-resolver';

/**
 * Global guard. A route without `@RequireCapability`, `@Authenticated` or `@Public` is denied for
 * everyone (a forgotten declaration fails closed). With auth disabled the caller is the system admin.
 */
@Injectable()
export class CapabilityGuard implements CanActivate {
  private readonly logger = new Logger('NodeAuth');
  private readonly nodeKey: Buffer;

  constructor(
    private readonly reflector: Reflector,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    private readonly resolver: PrincipalResolver,
    box: SecretBox,
  ) {
    this.nodeKey = nodeAuthKey(box);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<Request>();
    // Before anything else, public routes (logout) included: a cookie request from a foreign origin.
    if (this.config.authEnabled) this.resolver.assertOrigin(req);
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    // Node-to-node routes: only a request signed by a node of the cluster, whatever
    // HELDAR_AUTH_ENABLED says; a user credential is not looked at. The principal is the one the
    // calling node acts for (the route applies its capability and camera scope).
    if (this.reflector.getAllAndOverride<boolean>(NODE_ONLY_KEY, targets)) {
      const v = verifyNodeRequest(this.nodeKey, req.method, req.originalUrl, req.headers, Date.now());
      if (!v.ok) {
        const from = req.headers['x-heldar-node'];
        this.logger.warn({
          msg: 'node-to-node request refused',
          reason: v.reason,
          node: typeof from === 'string' ? from.slice(0, 128) : null,
          ip: req.socket.remoteAddress ?? null,
        });
        throw new UnauthorizedError('a node-to-node signature is required (missing, invalid or stale)');
      }
      (req as unknown as Record<string, unknown>)[PRINCIPAL_KEY] = v.principal;
      return true;
    }
    const caps = this.reflector.getAllAndOverride<Capability[] | undefined>(CAPABILITY_KEY, targets) ?? [];
    const anyPrincipal = this.reflector.getAllAndOverride<boolean>(AUTHENTICATED_KEY, targets) === true;
    if (caps.length === 0 && !anyPrincipal) {
      throw new ForbiddenError('route declares no capability; denied', 'ROUTE_UNDECLARED');
    }
    const principal = this.config.authEnabled ? await this.resolver.resolve(req) : SYSTEM_PRINCIPAL;
    (req as unknown as Record<string, unknown>)[PRINCIPAL_KEY] = principal;
    if (caps.length > 0 && !caps.some((c) => hasCapability(principal, c))) {
      throw new ForbiddenError(`requires capability ${caps.join(' or ')}`, 'MISSING_CAPABILITY');
    }
    if (this.reflector.getAllAndOverride<boolean>(FLEET_KEY, targets)) assertFleet(principal);
    // Camera-keyed routes: the scope is enforced here, before validation or any lookup, so a scoped
    // credential learns nothing about a camera outside its scope.
    const routePath = (req.route as { path?: unknown } | undefined)?.path;
    if (
      typeof routePath === 'string' &&
      routePath.startsWith('/api/v1/cameras/:id') &&
      typeof req.params.id === 'string'
    ) {
      assertCameraScope(principal, req.params.id);
    }
    return true;
  }
}
