import type { Capability } from '../auth/capabilities';
import type { Principal } from '../auth/principal';
import { SecretBox } from '../common/secret-box';
import {
  decodePrincipal,
  encodePrincipal,
  NODE_AUTH_WINDOW_MS,
  NODE_HEADERS,
  nodeAuthKey,
  secretCheckValue,
  secretMismatchMessage,
  signNodeRequest,
  verifyNodeRequest,
} from './node-auth';

const box = new SecretBox(Buffer.alloc(32, 7));
const otherBox = new SecretBox(Buffer.alloc(32, 8));
const KEY = nodeAuthKey(box);
const NOW = Date.parse('2026-12-02T12:00:00.000Z');
const PATH = '/internal/v1/segments/seg_abc?x=1';

const viewer: Principal = {
  kind: 'user',
  id: 'usr_1',
  name: 'ann',
  role: 'viewer',
  capabilities: new Set<Capability>(['video:playback']),
  cameraScope: ['cam_a', 'cam_b'],
};

const signed = (
  over: Partial<{ key: Buffer; path: string; nodeId: string; at: number; p: Principal }> = {},
) =>
  signNodeRequest(
    over.key ?? KEY,
    'GET',
    over.path ?? PATH,
    over.nodeId ?? 'node-a',
    over.p ?? viewer,
    over.at ?? NOW,
  );

describe('node-to-node auth', () => {
  it('accepts its own signature and carries the node and the principal', () => {
    const v = verifyNodeRequest(KEY, 'GET', PATH, signed(), NOW + 1000);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.nodeId).toBe('node-a');
    expect(v.principal).toMatchObject({ kind: 'user', id: 'usr_1', name: 'ann', role: 'viewer' });
    expect([...v.principal.capabilities]).toEqual(['video:playback']);
    expect(v.principal.cameraScope).toEqual(['cam_a', 'cam_b']);
  });

  const tampered: Array<[string, (h: Record<string, string>) => [string, string, Record<string, string>]]> = [
    ['another path', (h) => ['GET', '/internal/v1/segments/seg_other?x=1', h]],
    ['another query', (h) => ['GET', '/internal/v1/segments/seg_abc?x=2', h]],
    ['another method', (h) => ['POST', PATH, h]],
    ['another node id', (h) => ['GET', PATH, { ...h, [NODE_HEADERS.node]: 'node-x' }]],
    ['another time', (h) => ['GET', PATH, { ...h, [NODE_HEADERS.time]: String(NOW + 1) }]],
    [
      'a widened principal',
      (h) => [
        'GET',
        PATH,
        { ...h, [NODE_HEADERS.principal]: encodePrincipal({ ...viewer, cameraScope: 'all' }) },
      ],
    ],
    [
      'a flipped signature digit',
      (h) => {
        const s = h[NODE_HEADERS.signature];
        return ['GET', PATH, { ...h, [NODE_HEADERS.signature]: (s[0] === '0' ? '1' : '0') + s.slice(1) }];
      },
    ],
  ];
  it.each(tampered)('refuses %s (bad_signature)', (_what, change) => {
    const [method, path, headers] = change(signed());
    expect(verifyNodeRequest(KEY, method, path, headers, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses a signature made with a key derived from another secret key', () => {
    const h = signed({ key: nodeAuthKey(otherBox) });
    expect(verifyNodeRequest(KEY, 'GET', PATH, h, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['just inside the window (past)', -NODE_AUTH_WINDOW_MS, true],
    ['just inside the window (future)', NODE_AUTH_WINDOW_MS, true],
    ['stale', -NODE_AUTH_WINDOW_MS - 1, false],
    ['from the future', NODE_AUTH_WINDOW_MS + 1, false],
  ])('time %s', (_what, offset, ok) => {
    const v = verifyNodeRequest(KEY, 'GET', PATH, signed({ at: NOW + offset }), NOW);
    expect(v.ok ? true : v.reason).toBe(ok ? true : 'stale');
  });

  it.each(Object.values(NODE_HEADERS))('refuses a request without %s (missing)', (name) => {
    const h: Record<string, string> = { ...signed() };
    delete h[name];
    expect(verifyNodeRequest(KEY, 'GET', PATH, h, NOW)).toEqual({ ok: false, reason: 'missing' });
  });

  it.each([
    ['a node id with a newline', NODE_HEADERS.node, 'node-a\nx'],
    ['a non-numeric time', NODE_HEADERS.time, '12e3'],
    ['a short signature', NODE_HEADERS.signature, 'abcd'],
    ['an upper-case signature', NODE_HEADERS.signature, 'A'.repeat(64)],
  ])('refuses %s (malformed)', (_what, name, value) => {
    expect(verifyNodeRequest(KEY, 'GET', PATH, { ...signed(), [name]: value }, NOW)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it.each([
    [
      'an unknown kind',
      Buffer.from('{"kind":"root","id":"x","name":"x","role":null,"caps":[],"scope":"all"}').toString(
        'base64url',
      ),
    ],
    [
      'scope neither all nor a list',
      Buffer.from('{"kind":"user","id":"x","name":"x","role":null,"caps":[],"scope":"some"}').toString(
        'base64url',
      ),
    ],
    ['not JSON', '%%%'],
  ])('a principal header with %s decodes to nothing', (_what, encoded) => {
    expect(decodePrincipal(encoded)).toBeNull();
  });

  it('round-trips the system principal (auth disabled)', () => {
    const sys: Principal = {
      kind: 'system',
      id: 'system',
      name: 'system',
      role: 'admin',
      capabilities: new Set<Capability>(['admin']),
      cameraScope: 'all',
    };
    const p = decodePrincipal(encodePrincipal(sys))!;
    expect(p.cameraScope).toBe('all');
    expect(p.capabilities.has('admin')).toBe(true);
  });

  it('the node key and the secret check value are neither the secret key nor each other', () => {
    const raw = Buffer.alloc(32, 7);
    expect(KEY.equals(raw)).toBe(false);
    expect(secretCheckValue(box)).toMatch(/^v1:[0-9a-f]{64}$/);
    expect(secretCheckValue(box)).not.toContain(KEY.toString('hex'));
    expect(secretCheckValue(box)).not.toContain(raw.toString('hex'));
    expect(secretCheckValue(box)).toBe(secretCheckValue(new SecretBox(Buffer.alloc(32, 7))));
    expect(secretCheckValue(box)).not.toBe(secretCheckValue(otherBox));
  });

  it('the mismatch message names HELDAR_SECRET_KEY and what to do, never a key', () => {
    const m = secretMismatchMessage('postgres://h/db');
    expect(m).toContain('HELDAR_SECRET_KEY');
    expect(m).toContain('same HELDAR_SECRET_KEY');
    expect(m).not.toContain(Buffer.alloc(32, 7).toString('base64'));
  });
});
