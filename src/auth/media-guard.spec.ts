import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROLE_CAPABILITIES } from './capabilities';
import { authorizeMediaPath, resolveUnderRoot } from './media-guard';
import { type Principal, SYSTEM_PRINCIPAL } from './principal';

const viewer: Principal = {
  kind: 'user',
  id: 'u',
  name: 'v',
  role: 'viewer',
  capabilities: new Set(ROLE_CAPABILITIES.viewer),
  cameraScope: 'all',
};
const integration: Principal = {
  ...viewer,
  role: 'integration',
  capabilities: new Set(ROLE_CAPABILITIES.integration),
};
const scoped: Principal = { ...viewer, kind: 'api_key', cameraScope: ['cam_b'] };

describe('authorizeMediaPath', () => {
  it('maps trees to capabilities and files to cameras', () => {
    expect(authorizeMediaPath(viewer, 'recordings/cam_a/20261122_100000.mp4')).toEqual({
      kind: 'recordings',
      relPath: 'cam_a/20261122_100000.mp4',
      cameraId: 'cam_a',
    });
    expect(authorizeMediaPath(SYSTEM_PRINCIPAL, 'clips/clip_1.mp4', () => 'cam_a').cameraId).toBe('cam_a');
  });

  it.each([
    'recordings/../secret.key',
    'recordings/cam_a/..%2f..%2fsecret.key',
    'recordings/%2e%2e/secret.key',
    'recordings/cam_a%2Fx.mp4',
    'recordings/cam_a%5c..%5cx.mp4',
    'recordings\\cam_a\\x.mp4',
    'recordings/cam_a/x.mp4%00.jpg',
    'recordings//etc/passwd',
    'recordings/./cam_a/x.mp4',
    'recordings/cam a/x.mp4',
  ])('refuses %s with a 400', (path) => {
    expect(() => authorizeMediaPath(SYSTEM_PRINCIPAL, path)).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });

  it('needs the tree capability (403) and knows only its trees (404)', () => {
    expect(() => authorizeMediaPath(integration, 'recordings/cam_a/x.mp4')).toThrow(
      expect.objectContaining({ status: 403, code: 'MISSING_CAPABILITY' }),
    );
    expect(() => authorizeMediaPath(viewer, 'backups/x.tar')).toThrow(
      expect.objectContaining({ status: 404 }),
    );
  });

  it('applies the camera scope before anything else, same answer for missing and foreign cameras', () => {
    expect(authorizeMediaPath(scoped, 'recordings/cam_b/x.mp4').cameraId).toBe('cam_b');
    const foreign = () => authorizeMediaPath(scoped, 'recordings/cam_a/x.mp4');
    const missing = () => authorizeMediaPath(scoped, 'recordings/nope/x.mp4');
    expect(foreign).toThrow(expect.objectContaining({ status: 403, code: 'CAMERA_SCOPE' }));
    expect(missing).toThrow(expect.objectContaining({ status: 403, code: 'CAMERA_SCOPE' }));
    expect(() => authorizeMediaPath(scoped, 'clips/clip_9.mp4', () => null)).toThrow(
      expect.objectContaining({ status: 403 }),
    );
  });
});

describe('resolveUnderRoot', () => {
  const root = mkdtempSync(join(tmpdir(), 'heldar-media-'));
  const outside = mkdtempSync(join(tmpdir(), 'heldar-outside-'));
  mkdirSync(join(root, 'cam_a'));
  writeFileSync(join(root, 'cam_a', 'ok.mp4'), 'x');
  writeFileSync(join(outside, 'secret.key'), 'k');
  symlinkSync(join(outside, 'secret.key'), join(root, 'cam_a', 'link.mp4'));
  symlinkSync(outside, join(root, 'escape'));

  it('resolves files under the root', async () => {
    expect(await resolveUnderRoot(root, 'cam_a/ok.mp4')).toMatch(/cam_a\/ok\.mp4$/);
  });

  it.each(['cam_a/link.mp4', 'escape/secret.key', 'cam_a/missing.mp4', '../' + 'x'])(
    'refuses %s with a 404',
    async (rel) => {
      await expect(resolveUnderRoot(root, rel)).rejects.toMatchObject({ status: 404 });
    },
  );
});
