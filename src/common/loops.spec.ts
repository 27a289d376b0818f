import { SchedulerRegistry } from '@nestjs/schedule';
import { LOOP_NAME, Loops } from './loops';

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('Loops', () => {
  let loops: Loops;
  let registry: SchedulerRegistry;
  beforeEach(() => {
    registry = new SchedulerRegistry();
    loops = new Loops(registry);
  });
  afterEach(async () => {
    await loops.beforeApplicationShutdown();
  });

  it('runs the first tick at once (next turn of the event loop)', async () => {
    const tick = jest.fn(() => Promise.resolve());
    loops.start('a', 60_000, tick);
    await turn();
    expect(tick).toHaveBeenCalledTimes(1);
  });

  it.each<[string, (l: Loops) => Promise<void>]>([
    ['stopped', (l) => l.stop('a')],
    ['shutdown began', (l) => l.beforeApplicationShutdown()],
  ])('never runs once %s before its first tick came', async (_what, end) => {
    const tick = jest.fn(() => Promise.resolve());
    loops.start('a', 60_000, tick);
    await end(loops);
    await turn();
    await turn();
    expect(tick).not.toHaveBeenCalled();
    expect(registry.getIntervals()).toEqual([]);
  });

  it('a loop started anew after stop runs its new tick only, once', async () => {
    const old = jest.fn(() => Promise.resolve());
    const fresh = jest.fn(() => Promise.resolve());
    loops.start('a', 60_000, old);
    await loops.stop('a');
    loops.start('a', 60_000, fresh);
    await turn();
    await turn();
    expect(old).not.toHaveBeenCalled();
    expect(fresh).toHaveBeenCalledTimes(1);
  });

  it('starts nothing once shutdown began', async () => {
    await loops.beforeApplicationShutdown();
    const tick = jest.fn(() => Promise.resolve());
    loops.start('late', 10, tick);
    await new Promise((r) => setTimeout(r, 30));
    expect(tick).not.toHaveBeenCalled();
    expect(registry.getIntervals()).toEqual([]);
  });

  it.each([
    ['recorder_health', true],
    ['indexer', true],
    ['playback_remux_sweep', true],
    ['recorder-health', false],
    ['RecorderHealth', false],
    ['_x', false],
    ['x_', false],
    ['', false],
  ])('loop name %j is snake_case: %s', (name, ok) => {
    expect(LOOP_NAME.test(name)).toBe(ok);
    if (!ok) expect(() => loops.start(name, 60_000, () => Promise.resolve())).toThrow('snake_case');
  });
});
