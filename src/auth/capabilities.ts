/** Capabilities (DESIGN.md §4). `admin` implies every other. */
export const CAPABILITIES = [
  'admin',
  'registry:manage',
  'camera:read',
  'video:live',
  'video:playback',
  'video:export',
  'events:read',
  'ai:tasks',
  'ai:frames',
  'ai:ingest',
  'system:read',
  'module:proxy',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

export const ROLES = ['admin', 'manager', 'guard', 'viewer', 'integration'] as const;
export type Role = (typeof ROLES)[number];

const READ: Capability[] = ['camera:read', 'events:read', 'system:read'];
const VIDEO: Capability[] = ['video:live', 'video:playback', 'video:export'];

export const ROLE_CAPABILITIES: Record<Role, readonly Capability[]> = {
  admin: CAPABILITIES,
  manager: CAPABILITIES.filter((c) => c !== 'admin'),
  guard: [...READ, ...VIDEO, 'module:proxy'],
  viewer: [...READ, ...VIDEO],
  integration: [...READ, 'ai:tasks', 'ai:frames', 'ai:ingest'],
};

export function isCapability(v: unknown): v is Capability {
  return typeof v === 'string' && (CAPABILITIES as readonly string[]).includes(v);
}
