import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Capability, Role } from './capabilities';
import { ForbiddenError } from '../common/errors';

/** Who is calling. With auth disabled every request is the synthetic system admin. */
export interface Principal {
  kind: 'system' | 'user' | 'api_key';
  id: string;
  name: string;
  role: Role | null;
  capabilities: ReadonlySet<Capability>;
  /** 'all', or the camera ids a scoped credential may touch. */
  cameraScope: 'all' | readonly string[];
}

export const SYSTEM_PRINCIPAL: Principal = Object.freeze({
  kind: 'system',
  id: 'system',
  name: 'system',
  role: 'admin',
  capabilities: new Set<Capability>(['admin']),
  cameraScope: 'all',
});

export const PRINCIPAL_KEY = 'heldarPrincipal';

/** `@Principal() principal: Principal` — the caller resolved by the global guard. */
export const Principal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<Record<string, unknown>>();
  return (req[PRINCIPAL_KEY] as Principal | undefined) ?? SYSTEM_PRINCIPAL;
});

export function hasCapability(p: Principal, cap: Capability): boolean {
  return p.capabilities.has('admin') || p.capabilities.has(cap);
}

export function canSeeCamera(p: Principal, cameraId: string): boolean {
  return p.cameraScope === 'all' || p.cameraScope.includes(cameraId);
}

/** Camera scope is checked BEFORE existence: "missing" and "someone else's" answer the same 403. */
export function assertCameraScope(p: Principal, cameraId: string, action = 'access it'): void {
  if (!canSeeCamera(p, cameraId)) {
    throw new ForbiddenError(
      `credential is not scoped to camera \`${cameraId}\` (cannot ${action})`,
      'CAMERA_SCOPE',
    );
  }
}

/** Fleet-wide routes refuse camera-scoped credentials. */
export function assertFleet(p: Principal): void {
  if (p.cameraScope !== 'all') {
    throw new ForbiddenError('this route is fleet-wide; camera-scoped credentials are refused', 'FLEET_ONLY');
  }
}
