import { DomainError, NotFoundError } from '../errors';
import { assertInScope, assertScoped, loadScoped, type ScopedCaller } from './scope';

const ALL: ScopedCaller = { cameraScope: 'all' };
const CAM1: ScopedCaller = { cameraScope: ['cam1'] };
const lookup = {
  forbidden: 'credential is not scoped to the camera of zone `z1`',
  notFound: () => new NotFoundError('zone `z1` not found', 'ZONE_NOT_FOUND'),
};

function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof DomainError ? `${e.status} ${e.code}` : `threw ${String(e)}`;
  }
}

describe('assertScoped: scope before existence', () => {
  it.each<[string, ScopedCaller, { cameraId: string } | null, string]>([
    ['unscoped, own row', ALL, { cameraId: 'cam2' }, 'ok'],
    ['unscoped, missing row', ALL, null, '404 ZONE_NOT_FOUND'],
    ['scoped, its camera', CAM1, { cameraId: 'cam1' }, 'ok'],
    ['scoped, another camera', CAM1, { cameraId: 'cam2' }, '403 CAMERA_SCOPE'],
    ['scoped, missing row: the same 403', CAM1, null, '403 CAMERA_SCOPE'],
    ['scope of no camera, missing row', { cameraScope: [] }, null, '403 CAMERA_SCOPE'],
  ])('%s → %s', (_name, p, row, expected) => {
    expect(outcome(() => assertScoped(p, row, lookup))).toBe(expected);
  });

  it('returns the row and says the message given', async () => {
    const row = { cameraId: 'cam1', id: 'z1' };
    expect(assertScoped(CAM1, row, lookup)).toBe(row);
    await expect(loadScoped(CAM1, () => Promise.resolve(row), lookup)).resolves.toBe(row);
    await expect(loadScoped(CAM1, () => Promise.resolve(null), lookup)).rejects.toThrow(lookup.forbidden);
    await expect(loadScoped(ALL, () => Promise.resolve(undefined), lookup)).rejects.toThrow(
      'zone `z1` not found',
    );
  });

  it.each<[ScopedCaller, string | null | undefined, string]>([
    [ALL, null, 'ok'],
    [ALL, 'cam9', 'ok'],
    [CAM1, 'cam1', 'ok'],
    [CAM1, 'cam9', '403 CAMERA_SCOPE'],
    [CAM1, undefined, '403 CAMERA_SCOPE'],
  ])('assertInScope(%j, %j) → %s', (p, cameraId, expected) => {
    expect(outcome(() => assertInScope(p, cameraId, 'no'))).toBe(expected);
  });
});
