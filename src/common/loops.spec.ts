import { SchedulerRegistry } from '@nestjs/schedule';
import { Subject } from 'rxjs';
import type { HeldarConfig } from '../config/heldar-config';
import { Leadership } from './leadership';
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

  describe('scope cluster (a singleton of the cluster)', () => {
    /** A PostgreSQL node's Leadership driven by hand. */
    function clusterNode() {
      const leadership = new Leadership({ isSqlite: false } as HeldarConfig);
      const changes$ = new Subject<boolean>();
      let leader = false;
      leadership.attach({ isLeader: () => leader, changes$ });
      const set = (v: boolean) => {
        leader = v;
        changes$.next(v);
      };
      return { leadership, set };
    }

    it('on SQLite (single node) a cluster loop runs as a node loop', async () => {
      const l = new Loops(registry, new Leadership({ isSqlite: true } as HeldarConfig));
      const tick = jest.fn(() => Promise.resolve());
      l.start('single', 60_000, tick, { scope: 'cluster' });
      await turn();
      expect(tick).toHaveBeenCalledTimes(1);
      await l.beforeApplicationShutdown();
    });

    it('ticks only while this node is the leader; a node loop ticks regardless', async () => {
      const { leadership, set } = clusterNode();
      const l = new Loops(registry, leadership);
      const single = jest.fn(() => Promise.resolve());
      const own = jest.fn(() => Promise.resolve());
      l.start('single', 20, single, { scope: 'cluster' });
      l.start('own', 20, own);
      await new Promise((r) => setTimeout(r, 70));
      expect(single).not.toHaveBeenCalled();
      expect(own.mock.calls.length).toBeGreaterThanOrEqual(2);

      set(true);
      await turn();
      expect(single).toHaveBeenCalledTimes(1); // at once on becoming leader, not a period later
      await new Promise((r) => setTimeout(r, 70));
      const whileLeader = single.mock.calls.length;
      expect(whileLeader).toBeGreaterThanOrEqual(3);

      set(false);
      await new Promise((r) => setTimeout(r, 70));
      expect(single).toHaveBeenCalledTimes(whileLeader);
      await l.beforeApplicationShutdown();
    });

    it('a stopped cluster loop does not run when leadership comes', async () => {
      const { leadership, set } = clusterNode();
      const l = new Loops(registry, leadership);
      const tick = jest.fn(() => Promise.resolve());
      l.start('single', 60_000, tick, { scope: 'cluster' });
      await l.stop('single');
      set(true);
      await turn();
      expect(tick).not.toHaveBeenCalled();
      await l.beforeApplicationShutdown();
    });
  });
});
