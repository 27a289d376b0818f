import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Capability } from './capabilities';

export const CAPABILITY_KEY = 'heldar:capability';
export const PUBLIC_KEY = 'heldar:public';
export const FLEET_KEY = 'heldar:fleet';

export interface CapabilityRequirement {
  capabilities: Capability[];
  fleet: boolean;
}

/** Every route declares who may call it (any one of `caps`); the global guard denies the rest. */
export function RequireCapability(...caps: [Capability, ...Capability[]]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(CAPABILITY_KEY, caps),
    ApiBearerAuth(),
    ApiSecurity('api-key'),
    ApiUnauthorizedResponse({ description: 'no valid credential (when auth is enabled)' }),
    ApiForbiddenResponse({ description: `requires ${caps.join(' or ')}` }),
  );
}

export const AUTHENTICATED_KEY = 'heldar:authenticated';

/** Any authenticated caller, whatever its capabilities (e.g. `GET /auth/me`). */
export function Authenticated(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(AUTHENTICATED_KEY, true),
    ApiBearerAuth(),
    ApiSecurity('api-key'),
    ApiUnauthorizedResponse({ description: 'no valid credential (when auth is enabled)' }),
  );
}

/** Fleet-wide route: camera-scoped credentials are refused. */
export function FleetOnly(): MethodDecorator & ClassDecorator {
  return SetMetadata(FLEET_KEY, true);
}

export const NODE_ONLY_KEY = 'heldar:node-only';

/**
 * Node-to-node route (cluster): no user credential is looked at; the route's own guard accepts only
 * a request signed by another node (NodeAuthGuard). A user's token alone gets 401.
 */
export function NodeOnly(): MethodDecorator & ClassDecorator {
  return SetMetadata(NODE_ONLY_KEY, true);
}

/** Explicitly public (health probes, login). */
export function Public(): MethodDecorator & ClassDecorator {
  return SetMetadata(PUBLIC_KEY, true);
}
