import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ClusterService } from '../../src/cluster/cluster.service';
import type { LeaseTiming } from '../../src/cluster/leader-lease';
import { LeaderService } from '../../src/cluster/leader.service';
import { NodeHeartbeatService } from '../../src/cluster/node-heartbeat.service';
import { NodeIdentity } from '../../src/cluster/node-identity';
import { NodesRepository } from '../../src/cluster/nodes.repository';
import { Leadership } from '../../src/common/leadership';
import { Loops } from '../../src/common/loops';
import type { HeldarConfig } from '../../src/config/heldar-config';
import { startMediumKernel, type MediumKernel } from '../support/medium-kernel';
import { ENGINE } from '../support/test-db';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Short lease timing so that expiry happens within a test: TTL 1.5 s, margin 0.3 s. */
const FAST: LeaseTiming = { ttlMs: 1_500, renewMs: 300, marginMs: 300 };

describe(`cluster: nodes and the leader lease (${ENGINE})`, () => {
  let k: MediumKernel;
  let repo: NodesRepository;
  let config: HeldarConfig;

  beforeAll(async () => {
    k = await startMediumKernel();
    repo = k.get(NodesRepository);
    config = k.store.config;
  });

  afterAll(async () => {
    await k?.close();
  });

  const heartbeat = (id: NodeIdentity) => new NodeHeartbeatService(repo, id, config);

  it('the kernel claimed its node row at boot and leads (SQLite: always; PostgreSQL: it took the free lease)', async () => {
    const view = await k.get(ClusterService).view();
    expect(view).toMatchObject({
      engine: ENGINE,
      node_id: config.nodeId,
      leader_id: config.nodeId,
      live_nodes: 1,
    });
    expect(view.nodes).toEqual([
      expect.objectContaining({
        id: config.nodeId,
        live: true,
        leader: true,
        capacity: 256,
        cameras_held: 0,
        stopped_at: null,
      }),
    ]);
    expect(k.get(Leadership).isLeader()).toBe(true);
  });

  /** Another process on this host, as a test can claim for it on either engine (same pid as the kernel). */
  const here = (id: string, boot: string) =>
    new NodeIdentity(id, 'http://here:8080', boot, hostname(), process.pid);

  if (ENGINE === 'sqlite')
    it('SQLite: a second kernel on the same database file refuses to start, whatever its node id', async () => {
      const second = heartbeat(new NodeIdentity('n_other', 'http://b:8080', 'boot-b', 'host-b', 1000));
      await expect(second.claim()).rejects.toThrow(
        `another Heldar kernel (pid ${process.pid} on host ${hostname()}) is using ${config.sqlitePath}; stop it first`,
      );
      expect(await repo.get('n_other')).toMatchObject({ bootId: 'boot-b', stoppedAt: expect.any(String) });
    });
  else
    it('PostgreSQL: a second kernel with the node id of a live one (fresh heartbeat) refuses; another id joins', async () => {
      await heartbeat(new NodeIdentity('n_live', 'http://a:8080', 'boot-a', 'host-a', 999)).claim();
      const second = heartbeat(new NodeIdentity('n_live', 'http://b:8080', 'boot-b', 'host-b', 1000));
      await expect(second.claim()).rejects.toThrow(
        'another Heldar kernel (pid 999 on host host-a) is running as node n_live on postgres://',
      );
      expect(await repo.get('n_live')).toMatchObject({ bootId: 'boot-a', host: 'host-a', pid: 999 });
      await heartbeat(new NodeIdentity('n_joins', 'http://b:8080', 'boot-b', 'host-b', 1000)).claim();
      const view = await k.get(ClusterService).view();
      expect(view.nodes.map((n) => [n.id, n.live, n.leader])).toEqual(
        expect.arrayContaining([
          [config.nodeId, true, true],
          ['n_joins', true, false],
          ['n_live', true, false],
        ]),
      );
    });

  it('a crashed kernel (this host, its pid gone) does not block the restart', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // exited: its pid names no process
    const crashed = new NodeIdentity('n_crashed', 'http://a:8080', 'boot-old', hostname(), dead);
    // The row a kernel left when it was killed (-9): not stopped, heartbeat fresh.
    expect(
      await repo.insertIfAbsent({
        id: 'n_crashed',
        url: crashed.url,
        version: '0',
        capacity: 1,
        camerasHeld: 3,
        bootId: 'boot-old',
        host: hostname(),
        pid: dead,
        stoppedAt: null,
      }),
    ).toBe(true);
    await heartbeat(here('n_crashed', 'boot-new')).claim();
    expect(await repo.get('n_crashed')).toMatchObject({
      bootId: 'boot-new',
      pid: process.pid,
      stoppedAt: null,
      camerasHeld: 0,
    });
  });

  it('a graceful stop frees the id at once; heartbeats write last_seen and cameras_held, and only for the holder', async () => {
    const a = heartbeat(here('n_grace', 'boot-a'));
    await a.claim();
    a.provideCamerasHeld(() => 7);
    const before = (await repo.get('n_grace'))!.lastSeen;
    await sleep(5);
    await a.beat();
    const after = (await repo.get('n_grace'))!;
    expect(after.camerasHeld).toBe(7);
    expect(after.lastSeen > before).toBe(true);

    await a.onApplicationShutdown();
    expect((await repo.get('n_grace'))!.stoppedAt).not.toBeNull();
    expect((await k.get(ClusterService).view()).nodes.find((n) => n.id === 'n_grace')!.live).toBe(false);
    await heartbeat(here('n_grace', 'boot-b')).claim();
    await a.beat(); // the former holder's beat changes nothing
    expect(await repo.get('n_grace')).toMatchObject({ bootId: 'boot-b', camerasHeld: 0, stoppedAt: null });
    expect((await k.get(ClusterService).view()).nodes.find((n) => n.id === 'n_grace')!.live).toBe(true);
  });

  describe('leader lease', () => {
    const made: LeaderService[] = [];
    const node = (id: string | NodeIdentity, mono: () => number = () => performance.now()) => {
      const who = typeof id === 'string' ? new NodeIdentity(id, `http://${id}`) : id;
      const s = new LeaderService(repo, who, undefined, mono, FAST);
      made.push(s);
      return s;
    };
    const leaders = (nodes: LeaderService[]) => nodes.filter((n) => n.isLeader());

    beforeAll(async () => {
      // The kernel's own lease is released: these nodes race for it.
      await k.get(LeaderService).stop();
    });
    afterEach(async () => {
      await Promise.all(made.splice(0).map((s) => s.stop()));
    });

    it('three nodes race for it: exactly one leads, and renewals keep the same one', async () => {
      const nodes = [node('n1'), node('n2'), node('n3')];
      await Promise.all(nodes.map((n) => n.renew()));
      const [first] = leaders(nodes);
      expect(leaders(nodes)).toEqual([first]);
      for (let round = 0; round < 5; round++) {
        await Promise.all(nodes.map((n) => n.renew()));
        expect(leaders(nodes)).toEqual([first]);
      }
    });

    it('a paused leader steps down by its own clock before the lease expires; another takes over only then', async () => {
      const nodes = [node('p1'), node('p2'), node('p3')];
      await Promise.all(nodes.map((n) => n.renew()));
      const [paused] = leaders(nodes);
      const others = nodes.filter((n) => n !== paused);
      const stepDowns: number[] = [];
      paused.changes$.subscribe((v) => !v && stepDowns.push(performance.now()));
      const lastSend = performance.now(); // the send of its last granted renewal
      await paused.renew();
      expect(paused.isLeader()).toBe(true);

      // The leader is paused (no more renewals); the others keep trying every 100 ms.
      let takenAt: number | null = null; // when the granted attempt returned: the new leader acts from then
      let pausedWasLeaderAtTakeover: boolean | null = null;
      while (takenAt === null && performance.now() - lastSend < 6_000) {
        await Promise.all(others.map((n) => n.renew()));
        if (leaders(others).length > 0) {
          takenAt = performance.now();
          pausedWasLeaderAtTakeover = paused.isLeader();
        } else await sleep(100);
      }
      expect(takenAt).not.toBeNull();
      expect(leaders(others)).toHaveLength(1);
      expect(pausedWasLeaderAtTakeover).toBe(false);
      expect(stepDowns).toHaveLength(1);
      // The paused node stepped down (by its clock, at TTL − margin) before another could act as leader …
      expect(stepDowns[0]).toBeLessThan(takenAt!);
      expect(stepDowns[0] - lastSend).toBeLessThan(FAST.ttlMs);
      // … which no one could before the TTL had passed on the store's clock; someone did soon after.
      expect(takenAt! - lastSend).toBeGreaterThanOrEqual(FAST.ttlMs - 5);
      expect(takenAt! - lastSend).toBeLessThan(FAST.ttlMs + 3_000);

      // Resumed, it is refused: it stays a follower.
      await paused.renew();
      expect(paused.isLeader()).toBe(false);
      expect(leaders(nodes)).toHaveLength(1);
    });

    it('fencing runs on the monotonic clock: a leader whose renewals stop answering steps down at TTL − margin', async () => {
      let now = 0;
      const n = node('f1', () => now);
      await n.renew();
      expect(n.isLeader()).toBe(true);
      now = FAST.ttlMs - FAST.marginMs - 1;
      expect(n.isLeader()).toBe(true);
      now = FAST.ttlMs - FAST.marginMs;
      expect(n.isLeader()).toBe(false);
    });

    it('a graceful stop releases the lease: another node takes it at its next attempt, not after the TTL', async () => {
      const a = node('g1');
      const b = node('g2');
      await a.renew();
      await b.renew();
      expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
      await a.stop();
      await b.renew();
      expect([a.isLeader(), b.isLeader()]).toEqual([false, true]);
    });

    it('a restart after a crash takes the lease of its dead previous boot at once (no other boot can be robbed)', async () => {
      const crashedBoot = new NodeIdentity('c1', 'http://c1');
      const crashed = node(crashedBoot);
      await crashed.renew();
      expect(crashed.isLeader()).toBe(true);
      const other = node('c2');
      const me = new NodeIdentity('c1', 'http://c1');
      // Another boot id than the holder's: nothing happens.
      expect(await repo.takeLeaderFrom('boot-not-holding', 'c1', me.bootId, FAST.ttlMs)).toBe(false);
      // The holder's boot (found dead by the node claim): taken at once, before its TTL ran out.
      expect(await repo.takeLeaderFrom(crashedBoot.bootId, 'c1', me.bootId, FAST.ttlMs)).toBe(true);
      const restarted = node(me);
      await restarted.renew();
      await other.renew();
      expect([restarted.isLeader(), other.isLeader()]).toEqual([true, false]);
      expect(await repo.leaderNodeId()).toBe('c1');
    });

    it('a cluster loop ticks on the leader only; the follower runs it once it becomes leader', async () => {
      const a = node('l1');
      const b = node('l2');
      const loopsOf = (s: LeaderService) => {
        const leadership = new Leadership({ isSqlite: false } as HeldarConfig);
        leadership.attach(s);
        return new Loops(new SchedulerRegistry(), leadership);
      };
      await a.renew();
      await b.renew();
      const [la, lb] = [loopsOf(a), loopsOf(b)];
      const ticks = { a: 0, b: 0 };
      la.start('singleton', 50, () => Promise.resolve(void ticks.a++), { scope: 'cluster' });
      lb.start('singleton', 50, () => Promise.resolve(void ticks.b++), { scope: 'cluster' });
      await sleep(300);
      expect(ticks.a).toBeGreaterThanOrEqual(3);
      expect(ticks.b).toBe(0);

      await a.stop();
      const aTicks = ticks.a;
      await b.renew();
      await sleep(300);
      expect(ticks.a).toBe(aTicks);
      expect(ticks.b).toBeGreaterThanOrEqual(3);
      await la.beforeApplicationShutdown();
      await lb.beforeApplicationShutdown();
    });
  });
});
