import { Logger } from '@nestjs/common';
import { EventBus, type KernelEvent } from '../events/event-bus';
import { CameraDeletionHooks } from './camera-deletion-hooks';

const deleted = (cameraId: string): KernelEvent => ({
  seq: 1,
  id: 'e1',
  cameraId,
  siteId: null,
  eventType: 'camera_deleted',
  severity: 'info',
  timestamp: '2026-01-01T00:00:00.000Z',
  payload: {},
  createdAt: '2026-01-01T00:00:00.000Z',
});

describe('CameraDeletionHooks', () => {
  let bus: EventBus;
  let hooks: CameraDeletionHooks;
  let warn: jest.SpyInstance;
  beforeEach(() => {
    bus = new EventBus();
    hooks = new CameraDeletionHooks(bus);
    hooks.retryDelaysMs = [5, 5];
    hooks.onApplicationBootstrap();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await hooks.beforeApplicationShutdown();
    jest.restoreAllMocks();
  });

  it('runs every hook on camera_deleted; their synchronous part at once', async () => {
    const rows = new Map([
      ['zones', new Set(['cam_1', 'cam_2'])],
      ['keep', new Set(['cam_1'])],
    ]);
    for (const [module, set] of rows) hooks.add(module, async (id) => void set.delete(id));
    const cache = new Set(['cam_1']);
    hooks.add('cache', (id) => void cache.delete(id));
    bus.publish(deleted('cam_1'));
    expect(cache.has('cam_1')).toBe(false);
    await hooks.beforeApplicationShutdown();
    expect([...rows.get('zones')!]).toEqual(['cam_2']);
    expect([...rows.get('keep')!]).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('retries a hook that fails once: its rows are gone, the others are not held up', async () => {
    const rows = new Set(['cam_1']);
    let calls = 0;
    hooks.add('zones', async (id) => {
      if (++calls === 1) throw new Error('database is locked');
      rows.delete(id);
    });
    const other = new Set(['cam_1']);
    hooks.add('keep', (id) => void other.delete(id));
    expect(await hooks.cleanUp('cam_1')).toEqual([]);
    expect(calls).toBe(2);
    expect(rows.size).toBe(0);
    expect(other.size).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]).toEqual([
      expect.objectContaining({ module: 'zones', cameraId: 'cam_1', attempt: 1 }),
      'camera cleanup failed; retrying',
    ]);
  });

  it('a hook that always fails is tried 3 times, then a warning names the module', async () => {
    let calls = 0;
    hooks.add('snapshots', () => {
      calls++;
      throw new Error('disk I/O error');
    });
    hooks.add('keep', () => undefined);
    expect(await hooks.cleanUp('cam_7')).toEqual(['snapshots']);
    expect(calls).toBe(3);
    const last = warn.mock.calls[warn.mock.calls.length - 1] as [Record<string, unknown>, string];
    expect(last[0]).toMatchObject({ module: 'snapshots', cameraId: 'cam_7', attempts: 3 });
    expect((last[0].err as Error).message).toBe('disk I/O error');
    expect(last[1]).toBe(
      'camera cleanup of module snapshots failed 3 time(s); its rows for the camera remain',
    );
  });

  it('refuses a module registered twice', () => {
    hooks.add('zones', () => undefined);
    expect(() => hooks.add('zones', () => undefined)).toThrow(/twice/);
  });
});
