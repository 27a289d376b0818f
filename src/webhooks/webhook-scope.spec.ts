import type { KernelEvent } from '../events/event-bus';
import { matches } from './webhook-dispatcher.service';
import { scopeAdmits, scopeDto, scopeFromDto, scopeWithin, type CameraScope } from './webhook-scope';

describe('webhook camera scope', () => {
  it.each<[string, 'all' | 'cameras' | undefined, string[] | undefined, CameraScope | undefined | string]>([
    ['neither field: unchanged', undefined, undefined, undefined],
    ['all', 'all', undefined, null],
    ['all with an empty list', 'all', [], null],
    ['cameras', 'cameras', ['cam_a', 'cam_b'], ['cam_a', 'cam_b']],
    ['a list alone means cameras', undefined, ['cam_a'], ['cam_a']],
    ['duplicates and spaces folded', 'cameras', [' cam_a', 'cam_a '], ['cam_a']],
    ['cameras without a list', 'cameras', undefined, 'non-empty scope_cameras'],
    ['cameras with an empty list', 'cameras', [], 'non-empty scope_cameras'],
    ['a blank id', 'cameras', ['cam_a', ' '], 'non-empty scope_cameras'],
    ['all with a list is not guessed', 'all', ['cam_a'], 'takes no scope_cameras'],
  ])('scopeFromDto: %s', (_name, kind, cameras, want) => {
    const r = scopeFromDto(kind, cameras);
    if (typeof want === 'string') expect(r).toEqual({ problem: expect.stringContaining(want) });
    else expect(r).toEqual({ scope: want });
  });

  it.each<[CameraScope, 'all' | string[], boolean]>([
    [null, 'all', true],
    [['a'], 'all', true],
    [null, ['a'], false], // every camera is wider than a scoped principal's
    [['a'], ['a', 'b'], true],
    [['a', 'b'], ['a', 'b'], true],
    [['a', 'c'], ['a', 'b'], false],
  ])('scopeWithin(%j, %j) = %s', (inner, outer, want) => {
    expect(scopeWithin(inner, outer)).toBe(want);
  });

  it.each<[CameraScope, string | null, boolean]>([
    [null, 'cam_a', true],
    [null, null, true], // unscoped subscriptions get system events as before
    [['cam_a'], 'cam_a', true],
    [['cam_a'], 'cam_b', false],
    [['cam_a'], null, false], // camera-less events never reach a scoped subscription
    [['cam_a', 'cam_b'], 'cam_b', true],
  ])('scopeAdmits(%j, %j) = %s', (scope, cameraId, want) => {
    expect(scopeAdmits(scope, cameraId)).toBe(want);
  });

  it('shows a scope as API keys do', () => {
    expect(scopeDto(null)).toEqual({ scope_kind: 'all', scope_cameras: [] });
    expect(scopeDto(['cam_a'])).toEqual({ scope_kind: 'cameras', scope_cameras: ['cam_a'] });
  });

  it('the dispatcher matches type, severity and scope together', () => {
    const e = (cameraId: string | null, severity = 'info', eventType = 'zone_enter') =>
      ({ cameraId, severity, eventType }) as KernelEvent;
    const scoped = { eventTypes: ['zone_*'], minSeverity: 'info', cameraScope: ['cam_a'] };
    const all = { ...scoped, cameraScope: null };
    expect(matches(scoped, e('cam_a'))).toBe(true);
    expect(matches(scoped, e('cam_b'))).toBe(false);
    expect(matches(scoped, e(null))).toBe(false);
    expect(matches(scoped, e('cam_a', 'info', 'camera_offline'))).toBe(false);
    expect(matches({ ...scoped, minSeverity: 'warning' }, e('cam_a'))).toBe(false);
    expect(matches(all, e('cam_b'))).toBe(true);
    expect(matches(all, e(null))).toBe(true);
  });
});
