import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Capability, Role } from '../auth/capabilities';
import type { Principal } from '../auth/principal';
import type { SecretBox } from '../common/secret-box';

/**
 * Node-to-node authentication (cluster, per-node storage): a node asking another for media signs
 * the request with a key derived from the shared `HELDAR_SECRET_KEY` (HKDF-SHA256, own label).
 * The signature covers the method, the path with its query, the time, the calling node's id and
 * the principal on whose behalf it asks, so none of them can be changed in flight; the receiver
 * checks it in constant time and refuses a time outside ±5 min (a replay inside the window can
 * only read the same media again).
 */

/** The headers a signed request carries. */
export const NODE_HEADERS = {
  node: 'x-heldar-node',
  time: 'x-heldar-node-time',
  principal: 'x-heldar-node-principal',
  signature: 'x-heldar-node-signature',
} as const;

/** How far the caller's clock may be from the receiver's. */
export const NODE_AUTH_WINDOW_MS = 5 * 60_000;

const NODE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const MAX_PRINCIPAL_CHARS = 64 * 1024;

/** The key every node derives from the shared secret key (HKDF-SHA256, own label; never the key itself). */
export function nodeAuthKey(box: SecretBox): Buffer {
  return box.deriveKey('node-auth-v1');
}

/** The principal as it travels: what the receiving route's checks need (capabilities, camera scope). */
interface WirePrincipal {
  kind: Principal['kind'];
  id: string;
  name: string;
  role: Role | null;
  caps: string[];
  scope: 'all' | string[];
}

export function encodePrincipal(p: Principal): string {
  const wire: WirePrincipal = {
    kind: p.kind,
    id: p.id,
    name: p.name,
    role: p.role,
    caps: [...p.capabilities].sort(),
    scope: p.cameraScope === 'all' ? 'all' : [...p.cameraScope],
  };
  return Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url');
}

/** The principal of a verified header, or null when it is not one. */
export function decodePrincipal(encoded: string): Principal | null {
  let w: Partial<WirePrincipal>;
  try {
    w = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Partial<WirePrincipal>;
  } catch {
    return null;
  }
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');
  if (
    !w ||
    typeof w !== 'object' ||
    (w.kind !== 'system' && w.kind !== 'user' && w.kind !== 'api_key') ||
    typeof w.id !== 'string' ||
    typeof w.name !== 'string' ||
    (w.role !== null && typeof w.role !== 'string') ||
    !strings(w.caps) ||
    (w.scope !== 'all' && !strings(w.scope))
  )
    return null;
  return {
    kind: w.kind,
    id: w.id,
    name: w.name,
    role: w.role,
    capabilities: new Set(w.caps as Capability[]),
    cameraScope: w.scope === 'all' ? 'all' : Object.freeze([...w.scope]),
  };
}

export interface SignedRequest {
  method: string;
  /** The path with its query, exactly as sent (`/internal/v1/segments/seg_x?x=1`). */
  pathAndQuery: string;
  /** Milliseconds since the epoch, the caller's clock. */
  timeMs: number;
  nodeId: string;
  /** `encodePrincipal` of the principal. */
  principal: string;
}

function mac(key: Buffer, r: SignedRequest): Buffer {
  const text = ['v1', r.method.toUpperCase(), r.pathAndQuery, String(r.timeMs), r.nodeId, r.principal].join(
    '\n',
  );
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/** The headers of a request `nodeId` sends on behalf of `principal`. */
export function signNodeRequest(
  key: Buffer,
  method: string,
  pathAndQuery: string,
  nodeId: string,
  principal: Principal,
  nowMs: number,
): Record<string, string> {
  const r: SignedRequest = {
    method,
    pathAndQuery,
    timeMs: Math.trunc(nowMs),
    nodeId,
    principal: encodePrincipal(principal),
  };
  return {
    [NODE_HEADERS.node]: r.nodeId,
    [NODE_HEADERS.time]: String(r.timeMs),
    [NODE_HEADERS.principal]: r.principal,
    [NODE_HEADERS.signature]: mac(key, r).toString('hex'),
  };
}

export type NodeAuthVerdict =
  | { ok: true; nodeId: string; principal: Principal }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'bad_signature' };

/** One header's value (the first when repeated), or undefined. */
type Headers = Record<string, string | string[] | undefined>;
const one = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Checks a request's node signature: every header present and well formed, the time within
 * `windowMs` of `nowMs`, the HMAC equal (constant time) over exactly what was received. The reason
 * of a refusal is for the receiver's log; the caller is told only 401.
 */
export function verifyNodeRequest(
  key: Buffer,
  method: string,
  pathAndQuery: string,
  headers: Headers,
  nowMs: number,
  windowMs = NODE_AUTH_WINDOW_MS,
): NodeAuthVerdict {
  const nodeId = one(headers, NODE_HEADERS.node);
  const time = one(headers, NODE_HEADERS.time);
  const principal = one(headers, NODE_HEADERS.principal);
  const signature = one(headers, NODE_HEADERS.signature);
  if (nodeId === undefined || time === undefined || principal === undefined || signature === undefined)
    return { ok: false, reason: 'missing' };
  if (
    !NODE_ID.test(nodeId) ||
    !/^\d{1,15}$/.test(time) ||
    !SIGNATURE.test(signature) ||
    principal.length > MAX_PRINCIPAL_CHARS
  )
    return { ok: false, reason: 'malformed' };
  const timeMs = Number(time);
  const expected = mac(key, { method, pathAndQuery, timeMs, nodeId, principal });
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex')))
    return { ok: false, reason: 'bad_signature' };
  if (Math.abs(nowMs - timeMs) > windowMs) return { ok: false, reason: 'stale' };
  const p = decodePrincipal(principal);
  if (!p) return { ok: false, reason: 'malformed' };
  return { ok: true, nodeId, principal: p };
}

/**
 * The value every node of a cluster stores/compares at boot to prove they share HELDAR_SECRET_KEY:
 * a sub-key derived from it under its own label (HKDF-SHA256). It reveals nothing of the key, nor
 * of the other sub-keys, and a 32-byte random key cannot be guessed from it.
 */
export function secretCheckValue(box: SecretBox): string {
  return 'v1:' + box.deriveKey('secret-check-v1').toString('hex');
}

/** The refusal a node with another key prints (never the key or the check value). */
export function secretMismatchMessage(where: string): string {
  return (
    `HELDAR_SECRET_KEY differs from the key the other nodes of this cluster use (${where} holds a check ` +
    'value made with another key). Every node must run with the same HELDAR_SECRET_KEY (camera ' +
    'credentials are sealed with it, nodes authenticate each other with a key derived from it): set it ' +
    "to the value the first node uses (its HELDAR_SECRET_KEY, or the content of that node's " +
    '<data dir>/secret.key if it generated one), then start this node again'
  );
}
