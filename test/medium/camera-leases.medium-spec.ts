import { Test, type TestingModule } from '@nestjs/testing';
import { ENTITIES } from '../../src/app.entities';
import type { CamerasService } from '../../src/cameras/cameras.service';
import { CameraLeasesRepository } from '../../src/cluster/camera-leases.repository';
import type { LeaseTiming, OwnershipChange } from '../../src/cluster/camera-leases.logic';
import { MonotonicClock } from '../../src/cluster/camera-leases.ownership';
import { LeaseService } from '../../src/cluster/lease.service';
import { CommonModule } from '../../src/common/common.module';
import type { Loops } from '../../src/common/loops';
import { ConfigModule } from '../../src/config/config.module';
import { loadConfig } from '../../src/config/heldar-config';
import { DatabaseModule } from '../../src/database/database.module';
import { DatabaseService } from '../../src/database/database.service';
import { RowRetention } from '../../src/common/row-retention';
import type { SegmentEntity } from '../../src/timeline/entities/segment.entity';
import { TimelineRepository } from '../../src/timeline/timeline.repository';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

/** Loops are driven by hand here: a node's rounds run when the test says (a node that "stops
 * renewing" simply gets no more rounds, like a paused or partitioned process). */
const handLoops = { start: () => undefined, stop: async () => undefined } as unknown as Loops;

/** A monotonic clock the test can jump (a pause, seen from inside the paused node). */
class JumpClock extends MonotonicClock {
  offset = 0;
  override now(): number {
    return performance.now() + this.offset;
  }
}

interface Node {
  id: string;
  mod: TestingModule;
  leases: LeaseService;
  clock: JumpClock;
  changes: Array<OwnershipChange & { atMs: number }>;
}

const cams = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `cam_${String(i).padStart(2, '0')}`,
    enabled: true,
    recordEnabled: true,
  }));

async function startNode(
  store: TestStore,
  id: string,
  cameras: Array<{ id: string; enabled: boolean; recordEnabled: boolean }>,
  opts: { maxCameras?: number; liveNodes?: number; timing?: LeaseTiming } = {},
): Promise<Node> {
  const config = loadConfig({
    HELDAR_DATA_DIR: store.dataDir,
    HELDAR_DATABASE_URL: store.databaseUrl,
    HELDAR_LOG: 'silent',
    HELDAR_RECORDER_ENABLED: 'true',
    HELDAR_NODE_ID: id,
    HELDAR_NODE_MAX_CAMERAS: String(opts.maxCameras ?? 256),
  });
  const mod = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), CommonModule, DatabaseModule.forRoot(ENTITIES)],
  }).compile();
  await mod.init();
  const clock = new JumpClock();
  const policies = { listPolicies: async () => cameras } as unknown as CamerasService;
  const leases = new LeaseService(
    new CameraLeasesRepository(mod.get(DatabaseService)),
    policies,
    handLoops,
    clock,
    config,
    opts.liveNodes === undefined ? undefined : async () => opts.liveNodes!,
    opts.timing,
  );
  const changes: Node['changes'] = [];
  leases.changes$.subscribe((c) => changes.push({ ...c, atMs: performance.now() }));
  return { id, mod, leases, clock, changes };
}

async function owners(node: Node): Promise<Map<string, string>> {
  return new CameraLeasesRepository(node.mod.get(DatabaseService)).owners();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (ENGINE === 'postgres') {
  describe('camera leases on PostgreSQL: racing nodes, capacity, fencing, failover', () => {
    let store: TestStore;
    const nodes: Node[] = [];
    const start = async (
      ...args: Parameters<typeof startNode> extends [TestStore, ...infer R] ? R : never
    ) => {
      const n = await startNode(store, ...args);
      nodes.push(n);
      return n;
    };

    beforeEach(async () => {
      store = await createTestStore();
    });

    afterEach(async () => {
      for (const n of nodes.splice(0)) {
        await n.leases.beforeApplicationShutdown();
        await n.mod.close();
      }
      await store.cleanup();
    });

    it('3 nodes racing for 50 cameras: every camera exactly one owner, spread evenly', async () => {
      const list = cams(50);
      const ns = [
        await start('node-a', list, { liveNodes: 3 }),
        await start('node-b', list, { liveNodes: 3 }),
        await start('node-c', list, { liveNodes: 3 }),
      ];
      // Concurrent rounds on three connection pools: the acquiring transactions really race.
      for (let i = 0; i < 4; i++) await Promise.all(ns.map((n) => n.leases.round()));
      const db = await owners(ns[0]);
      expect(db.size).toBe(50);
      const held = ns.map((n) => n.leases.heldCameras());
      // What each node believes it owns is exactly what the database says, and no camera twice.
      for (const [i, n] of ns.entries())
        expect(held[i]).toEqual(
          [...db]
            .filter(([, node]) => node === n.id)
            .map(([c]) => c)
            .sort(),
        );
      expect(new Set(held.flat()).size).toBe(50);
      expect(held.flat()).toHaveLength(50);
      for (const h of held) expect([16, 17]).toContain(h.length);
      for (const c of list) expect(ns.filter((n) => n.leases.owns(c.id))).toHaveLength(1);
    });

    it('without a node registry (lease holders counted): still one owner per camera, all recorded', async () => {
      const list = cams(50);
      const ns = [await start('node-a', list), await start('node-b', list), await start('node-c', list)];
      for (let i = 0; i < 3; i++) await Promise.all(ns.map((n) => n.leases.round()));
      const held = ns.flatMap((n) => n.leases.heldCameras());
      expect(held).toHaveLength(50);
      expect(new Set(held).size).toBe(50);
      expect((await owners(ns[0])).size).toBe(50);
    });

    it('capacity: no node holds more than HELDAR_NODE_MAX_CAMERAS; the rest stay free', async () => {
      const list = cams(50);
      const ns = [
        await start('node-a', list, { maxCameras: 10 }),
        await start('node-b', list, { maxCameras: 10 }),
        await start('node-c', list, { maxCameras: 10 }),
      ];
      for (let i = 0; i < 4; i++) await Promise.all(ns.map((n) => n.leases.round()));
      for (const n of ns) expect(n.leases.heldCameras()).toHaveLength(10);
      expect((await owners(ns[0])).size).toBe(30);
    });

    it('a node that stops renewing drops its cameras by its own clock BEFORE the others take them after the TTL', async () => {
      const timing: LeaseTiming = { ttlMs: 3000, renewMs: 500, marginMs: 1000 };
      const list = cams(12);
      const ns = [
        await start('node-a', list, { timing, liveNodes: 3 }),
        await start('node-b', list, { timing, liveNodes: 3 }),
        await start('node-c', list, { timing, liveNodes: 3 }),
      ];
      for (let i = 0; i < 4; i++) await Promise.all(ns.map((n) => n.leases.round()));
      const [a, b, c] = ns;
      const cOwned = c.leases.heldCameras();
      expect(cOwned.length).toBeGreaterThan(0);
      // C gets no more rounds (paused / cut off); its fence timer still runs.
      const takenAt = new Map<string, number>();
      const t0 = performance.now();
      while (performance.now() - t0 < 6000 && takenAt.size < cOwned.length) {
        for (const n of [a, b]) {
          const before = performance.now();
          const seen = n.changes.length;
          await n.leases.round();
          for (const ch of n.changes.slice(seen))
            for (const id of ch.gained) if (cOwned.includes(id) && !takenAt.has(id)) takenAt.set(id, before);
        }
        await sleep(timing.renewMs);
      }
      // Every camera of C moved to A or B, each as a failover (C's lease expired, not released).
      expect([...takenAt.keys()].sort()).toEqual(cOwned);
      const failovers = new Set([...a.changes, ...b.changes].flatMap((ch) => ch.failover));
      for (const id of cOwned) expect(failovers.has(id)).toBe(true);
      // C had dropped them all, by its own monotonic clock, before the first was taken.
      const cLost = c.changes.filter((ch) => ch.lost.length > 0);
      expect(cLost.flatMap((ch) => ch.lost).sort()).toEqual(cOwned);
      const droppedAt = Math.max(...cLost.map((ch) => ch.atMs));
      expect(droppedAt).toBeLessThan(Math.min(...takenAt.values()));
      expect(c.leases.heldCameras()).toEqual([]);
      // C resumes: it does not get them back (and no camera has two owners).
      await c.leases.round();
      expect(c.leases.heldCameras()).toEqual([]);
      // What C's recorders open from now on was opened without a lease; the holders' are theirs.
      for (const id of cOwned) {
        expect(c.leases.unprovenForMs(id)).toBeGreaterThan(0);
        const holder = [a, b].find((n) => n.leases.owns(id))!;
        expect(holder.leases.unprovenForMs(id)).toBeNull();
      }
      for (const cam of list) expect(ns.filter((n) => n.leases.owns(cam.id))).toHaveLength(1);
      const db = await owners(a);
      expect(db.size).toBe(12);
      expect([...db.values()].filter((n) => n === 'node-c')).toEqual([]);
    });

    it('a pause seen by the paused node: its clock jumps 40 s, it owns nothing at once; a renewal that still succeeds takes them back', async () => {
      const a = await start('node-a', cams(5));
      await a.leases.round();
      expect(a.leases.heldCameras()).toHaveLength(5);
      expect(a.leases.unprovenForMs('cam_00')).toBeNull();
      a.clock.offset = 40_000;
      // Nothing sent yet: the node already cannot prove its leases, since 12 s after the round's send
      // (40 s − 12 s = 28 s ago): what its recorder opened since then was opened without a lease.
      expect(a.leases.owns('cam_00')).toBe(false);
      const since = a.leases.unprovenForMs('cam_00')!;
      expect(since).toBeGreaterThan(27_000);
      expect(since).toBeLessThan(30_000);
      a.leases.fence();
      expect(a.changes.at(-1)).toMatchObject({ lost: ['cam_00', 'cam_01', 'cam_02', 'cam_03', 'cam_04'] });
      // Fenced: the same instant, still.
      expect(Math.abs(a.leases.unprovenForMs('cam_00')! - since)).toBeLessThan(500);
      // The database still had them (a real pause of 40 s would not): the next renewal proves them again.
      await a.leases.round();
      expect(a.leases.heldCameras()).toHaveLength(5);
      expect(a.leases.owns('cam_00')).toBe(true);
      expect(a.leases.unprovenForMs('cam_00')).toBeNull();
    });

    it('graceful stop releases: another node takes the cameras at its next round, not as a failover', async () => {
      const list = cams(6);
      const a = await start('node-a', list);
      const b = await start('node-b', list);
      await a.leases.round();
      expect(a.leases.heldCameras()).toHaveLength(6);
      await a.leases.releaseAll();
      expect(a.leases.heldCameras()).toEqual([]);
      expect((await owners(a)).size).toBe(0);
      await b.leases.round();
      expect(b.leases.heldCameras()).toHaveLength(6);
      expect(b.changes.at(-1)).toMatchObject({ failover: [] });
    });

    it('a camera that stops recording (disabled, deleted) is released by its owner', async () => {
      const list = cams(4);
      const a = await start('node-a', list);
      await a.leases.round();
      list.splice(0, 2);
      await a.leases.round();
      expect(a.leases.heldCameras()).toEqual(['cam_02', 'cam_03']);
      expect([...(await owners(a)).keys()].sort()).toEqual(['cam_02', 'cam_03']);
    });
  });
} else {
  describe('camera leases on SQLite: one node owns every camera, no lease query', () => {
    let store: TestStore;
    let node: Node;

    beforeAll(async () => {
      store = await createTestStore();
      node = await startNode(store, 'node-a', cams(3));
    });

    afterAll(async () => {
      await node.mod.close();
      await store.cleanup();
    });

    it('owns every camera, never changes, and a round reads nothing', async () => {
      const repo = CameraLeasesRepository.prototype;
      const spies = [jest.spyOn(repo, 'renew'), jest.spyOn(repo, 'acquire'), jest.spyOn(repo, 'releaseAll')];
      await node.leases.round();
      node.leases.fence();
      await node.leases.releaseAll();
      expect(node.leases.owns('cam_00')).toBe(true);
      expect(node.leases.owns('any_camera')).toBe(true);
      expect(node.changes).toEqual([]);
      for (const s of spies) expect(s).not.toHaveBeenCalled();
      const tables = await node.mod
        .get(DatabaseService)
        .run((m) => m.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM camera_leases'));
      expect(Number(tables[0].n)).toBe(0);
    });
  });
}

describe(`segments of several nodes: a node's reconciliation and retention see only its own rows (${ENGINE})`, () => {
  let store: TestStore;
  let mod: TestingModule;
  let repo: TimelineRepository;
  const T0 = Date.parse('2026-11-01T00:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const row = (i: number, nodeId: string | null): SegmentEntity => ({
    id: `seg_${i}`,
    cameraId: 'cam_n',
    path: `cam_n/2026-11-01/${String(i).padStart(2, '0')}.mp4`,
    startTime: iso(T0 + i * 60_000),
    endTime: iso(T0 + (i + 1) * 60_000),
    durationS: 60,
    codec: 'h264',
    width: 640,
    height: 360,
    fps: 10,
    sizeBytes: 1000,
    container: 'mp4',
    locked: 0,
    evidenceLocked: false,
    incidentId: null,
    createdAt: iso(T0),
    nodeId,
  });

  beforeAll(async () => {
    store = await createTestStore();
    mod = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(store.config), CommonModule, DatabaseModule.forRoot(ENTITIES)],
    }).compile();
    await mod.init();
    repo = new TimelineRepository(mod.get(DatabaseService), mod.get(RowRetention));
    // 0-1: before the cluster (no node), 2-4: node-a's disk, 5-7: node-b's disk.
    await repo.insertSegments(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => row(i, i < 2 ? null : i < 5 ? 'node-a' : 'node-b')),
    );
  });

  afterAll(async () => {
    await mod.close();
    await store.cleanup();
  });

  it('a day folder counts and names only its own node’s rows (and rows without a node)', async () => {
    expect(await repo.countOfDay('cam_n', '2026-11-01', 'node-a')).toBe(5);
    expect([...(await repo.indexedNamesOfDay('cam_n', '2026-11-01', 'node-b')).keys()].sort()).toEqual([
      '00.mp4',
      '01.mp4',
      '05.mp4',
      '06.mp4',
      '07.mp4',
    ]);
    // A single node (or shared storage) sees every row.
    expect(await repo.countOfDay('cam_n', '2026-11-01')).toBe(8);
  });

  it('retention on node-a deletes its own rows (oldest first) and never a row of footage on node-b’s disk', async () => {
    const gone = await repo.deleteOldestDeletable('cam_n', 100, undefined, 'node-a');
    expect(gone.map((g) => g.path).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `cam_n/2026-11-01/0${i}.mp4`));
    const left = await repo.deleteOldestDeletable(null, 100, undefined, 'node-a');
    expect(left).toEqual([]);
    expect(await repo.countOfDay('cam_n', '2026-11-01')).toBe(3);
  });
});
