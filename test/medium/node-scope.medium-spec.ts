import { copyFileSync, existsSync, mkdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { Response } from 'express';
import { CamerasService } from '../../src/cameras/cameras.service';
import type { CreateCameraDto } from '../../src/cameras/dto/camera.dto';
import { LeaseService } from '../../src/cluster/lease.service';
import { Loops } from '../../src/common/loops';
import { DatabaseService } from '../../src/database/database.service';
import { ExportsService } from '../../src/exports/exports.service';
import { KeepService } from '../../src/keep/keep.service';
import { RecorderService } from '../../src/recorder/recorder.service';
import { HealthController } from '../../src/system/health.controller';
import { StorageAdapter } from '../../src/media/storage.adapter';
import { RetentionService } from '../../src/retention/retention.service';
import { SYSTEM_PRINCIPAL } from '../../src/auth/principal';
import { SnapshotsService } from '../../src/snapshots/snapshots.service';
import { IndexerService } from '../../src/timeline/indexer.service';
import { type MediumKernel, sampleSegment, startMediumKernel } from '../support/medium-kernel';
import { waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/**
 * State that belongs to one node of a cluster with per-node storage (issue 18): two kernels on one
 * PostgreSQL, `node-a` and `node-b`, each with its own data dir (its own recordings disk). What a
 * node keeps about its own disk must not be shared with, skipped for or deleted by the other.
 * (SQLite is single-node: the same code paths run there with no node, as every other spec shows.)
 */
const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const fileName = (ms: number) =>
  new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15) + '.mp4';

interface Row {
  path: string;
  node_id: string | null;
  kept_by: string;
  size_bytes: number | string;
}

async function rows(k: MediumKernel, cameraId: string): Promise<Row[]> {
  return k
    .get(DatabaseService)
    .run((m) =>
      m.query<Row[]>(
        'SELECT path, node_id, kept_by, size_bytes FROM segments WHERE camera_id = $1 ORDER BY start_time',
        [cameraId],
      ),
    );
}

/** Real 2 s segment files ending at `ends` in the camera's day folder on `k`'s disk, the
 * folder's mtime then set to `dirMtimeMs`. */
function place(k: MediumKernel, cameraId: string, day: string, ends: number[], dirMtimeMs: number): void {
  const dir = join(k.store.config.recordingsDirAbs, cameraId, day);
  mkdirSync(dir, { recursive: true });
  const sample = sampleSegment(k.store.dataDir);
  for (const end of ends) {
    const p = join(dir, fileName(end - 2000));
    copyFileSync(sample, p);
    utimesSync(p, end / 1000, end / 1000);
  }
  utimesSync(dir, dirMtimeMs / 1000, dirMtimeMs / 1000);
}

if (ENGINE === 'postgres')
  describe('per-node state with per-node storage: two nodes on one PostgreSQL (postgres)', () => {
    let a: MediumKernel;
    let b: MediumKernel;

    beforeAll(async () => {
      a = await startMediumKernel({ HELDAR_NODE_ID: 'node-a' });
      b = await startMediumKernel({ HELDAR_NODE_ID: 'node-b' }, a.store);
    }, 60_000);
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    /** A camera made on node-a that node-b's policy cache knows too (not recorded by any node). */
    async function camera(prefix: string, extra: Partial<CreateCameraDto> = {}): Promise<string> {
      const id = await a.uniqueCamera(prefix, { record_enabled: false, ...extra });
      await waitFor(() => b.get(CamerasService).getPolicy(id), 10_000, `node-b sees camera ${id}`);
      return id;
    }

    const names = (rs: Row[], node: string) =>
      rs.filter((r) => r.node_id === node).map((r) => r.path.split('/').slice(1).join('/'));

    describe('day folders (indexed_days)', () => {
      // A failover within day D1: node-a recorded its morning, node-b its afternoon and day D2.
      const d1 = Date.parse(`${dayOf(Date.now() - 3 * DAY_MS)}T00:00:00.000Z`);
      const d2 = d1 + DAY_MS;
      const D1 = dayOf(d1);
      const D2 = dayOf(d2);
      const h = (n: number) => n * 3_600_000;

      it('node-b indexes its own folder of a day node-a recorded as seen whole, even with the same mtime', async () => {
        const cam = await camera('nd');
        // Both folders of D1 last changed at the same instant (a coarse filesystem clock does that).
        const mtime = d1 + h(14);
        place(a, cam, D1, [d1 + h(1), d1 + h(2)], mtime);
        place(b, cam, D1, [d1 + h(12), d1 + h(13)], mtime);
        place(b, cam, D2, [d2 + h(1)], d2 + h(1));
        await a.get(IndexerService).scanCamera(cam);
        await b.get(IndexerService).scanCamera(cam);
        const rs = await rows(a, cam);
        expect(names(rs, 'node-a')).toEqual([
          `${D1}/${fileName(d1 + h(1) - 2000)}`,
          `${D1}/${fileName(d1 + h(2) - 2000)}`,
        ]);
        // On main node-b took node-a's record of D1 for its own folder and never listed it.
        expect(names(rs, 'node-b')).toEqual([
          `${D1}/${fileName(d1 + h(12) - 2000)}`,
          `${D1}/${fileName(d1 + h(13) - 2000)}`,
          `${D2}/${fileName(d2 + h(1) - 2000)}`,
        ]);
      });

      it('a node’s record of its folder survives the other node’s pass: an unchanged folder is not listed again', async () => {
        const cam = await camera('nl');
        // node-a: D1 morning and D2 (the camera came back to it); node-b: D1 afternoon.
        place(a, cam, D1, [d1 + h(1), d1 + h(2)], d1 + h(3));
        place(a, cam, D2, [d2 + h(5)], d2 + h(5));
        place(b, cam, D1, [d1 + h(12), d1 + h(13)], d1 + h(14));
        await a.get(IndexerService).scanCamera(cam);
        await b.get(IndexerService).scanCamera(cam);
        const listed = jest.spyOn(a.get(StorageAdapter), 'listNames');
        try {
          await a.get(IndexerService).scanCamera(cam);
          const d1Dir = join(a.store.config.recordingsDirAbs, cam, D1);
          // On main node-b's pass overwrote the shared row with its folder's mtime: node-a listed
          // its D1 again, and would at every pass (each node's pass overwriting the other's).
          expect(listed.mock.calls.map((c) => c[0])).not.toContain(d1Dir);
        } finally {
          listed.mockRestore();
        }
        expect((await rows(a, cam)).length).toBe(5);
      });
    });

    describe('keep decisions (event recording)', () => {
      it('a trigger on node-b keeps node-a’s footage; each node decides only the segments on its own disk', async () => {
        // The test decides, not the 5 s loops (they would decide before the trigger).
        for (const k of [a, b]) await k.get(Loops).stop('keep_decide');
        const cam = await camera('nk', { record_mode: 'event', pre_roll_seconds: 0, post_roll_seconds: 1 });
        const onA = await a.record(cam, 3, 600_000);
        // (record() answers every row of the camera: node-b's are the last two)
        const onB = (await b.record(cam, 2, 300_000)).slice(-2);
        expect((await rows(a, cam)).map((r) => [r.node_id, r.kept_by])).toEqual([
          ['node-a', 'pending'],
          ['node-a', 'pending'],
          ['node-a', 'pending'],
          ['node-b', 'pending'],
          ['node-b', 'pending'],
        ]);
        // A worker's event for the camera reaches node-b: the window it opens is a shared row.
        await b.get(KeepService).trigger(cam, Date.parse(onA[1].startTime) + 500, 'person');
        const later = Date.now() + 3_600_000;
        const policy = { id: cam, preRollSeconds: 0, segmentSeconds: 2 };

        // node-b decides first: its own two segments go (no trigger reached them), node-a's stay
        // pending (on main node-b deleted node-a's rows, whose files it cannot reach).
        await b.get(KeepService).decideCamera(policy, later);
        let rs = await rows(a, cam);
        expect(rs.map((r) => [r.node_id, r.kept_by])).toEqual([
          ['node-a', 'pending'],
          ['node-a', 'pending'],
          ['node-a', 'pending'],
        ]);
        for (const s of onB) expect(existsSync(s.file)).toBe(false);

        // node-a's decision sees the window opened through node-b: the triggered segment is kept.
        await a.get(KeepService).decideCamera(policy, later);
        rs = await rows(a, cam);
        expect(rs.map((r) => [r.node_id, r.kept_by])).toEqual([['node-a', 'event:person']]);
        expect(existsSync(onA[1].file)).toBe(true);
        expect(existsSync(onA[0].file)).toBe(false);
        expect(existsSync(onA[2].file)).toBe(false);
      });
    });

    describe('retention quota', () => {
      it('a camera’s quota counts the footage on this node’s disk: node-b never deletes because of node-a’s bytes', async () => {
        const size = Math.max(
          statSync(sampleSegment(a.store.dataDir)).size,
          statSync(sampleSegment(b.store.dataDir)).size,
        );
        // node-a holds three segments (over the quota), node-b two (under it); together five.
        const cam = await camera('nq', { storage_quota_bytes: Math.floor(2.5 * size) });
        await a.record(cam, 3, 900_000);
        await b.record(cam, 2, 300_000);
        await b.get(RetentionService).sweep();
        // On main node-b saw five segments over the quota and deleted its own, the newest footage.
        expect((await rows(a, cam)).map((r) => r.node_id)).toEqual([
          'node-a',
          'node-a',
          'node-a',
          'node-b',
          'node-b',
        ]);
        const report = await a.get(RetentionService).sweep();
        expect(report.camera_quota.cameras[cam]).toEqual({ deleted: 1, bytes: expect.any(Number) as number });
        expect((await rows(a, cam)).map((r) => r.node_id)).toEqual(['node-a', 'node-a', 'node-b', 'node-b']);
      });
    });
  });

if (ENGINE === 'postgres')
  describe('two nodes recording their share: snapshot schedules and /readyz (postgres)', () => {
    let c: MediumKernel;
    let d: MediumKernel;
    const cams: string[] = [];
    const holder = new Map<string, MediumKernel>();
    const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 0xff, 0xd9]);
    // Recorders on (so cameras are leased) but without an ffmpeg: nothing is pulled from a camera.
    const env = {
      HELDAR_RECORDER_ENABLED: 'true',
      HELDAR_FFMPEG_BIN: '/nonexistent',
      HELDAR_READYZ_MIN_RECORDING_PERCENT: '100',
    };

    beforeAll(async () => {
      c = await startMediumKernel({ ...env, HELDAR_NODE_ID: 'node-c', HELDAR_NODE_MAX_CAMERAS: '2' });
      jest.spyOn(c.get(ExportsService), 'snapshot').mockResolvedValue(JPEG);
      for (let i = 0; i < 4; i++) {
        const id = await c.uniqueCamera('ns');
        await c.get(SnapshotsService).createSchedule(SYSTEM_PRINCIPAL, id, { interval_seconds: 5 });
        cams.push(id);
      }
      // node-d boots with the schedules in the table; node-c holds two cameras at most.
      d = await startMediumKernel({ ...env, HELDAR_NODE_ID: 'node-d' }, c.store);
      jest.spyOn(d.get(ExportsService), 'snapshot').mockResolvedValue(JPEG);
      await waitFor(
        () =>
          Promise.resolve(
            c.get(LeaseService).heldCameras().length === 2 && d.get(LeaseService).heldCameras().length === 2,
          ),
        20_000,
        'two cameras leased on each node',
      );
      for (const id of c.get(LeaseService).heldCameras()) holder.set(id, c);
      for (const id of d.get(LeaseService).heldCameras()) holder.set(id, d);
    }, 90_000);
    afterAll(async () => {
      await d?.close();
      await c?.close();
    });

    it('each camera’s JPEGs are taken by its lease holder, stored in its data dir, and the row names it', async () => {
      expect([...holder.keys()].sort()).toEqual([...cams].sort());
      type Snap = { camera_id: string; path: string; node_id: string | null };
      const snaps = () =>
        c
          .get(DatabaseService)
          .run((m) =>
            m.query<Snap[]>(
              `SELECT * FROM snapshots WHERE camera_id IN (${cams.map((_, i) => `$${i + 1}`).join(', ')})`,
              cams,
            ),
          );
      const taken = await waitFor(
        async () => {
          const s = await snaps();
          return cams.every((id) => s.some((x) => x.camera_id === id)) ? s : null;
        },
        20_000,
        'a snapshot of every camera',
      );
      // On main the leader (node-c) took all four, into its own data dir, with no node on the row.
      const grabbed = (k: MediumKernel) =>
        [
          ...new Set((k.get(ExportsService).snapshot as jest.Mock).mock.calls.map((x) => x[0] as string)),
        ].sort();
      expect(grabbed(c)).toEqual(cams.filter((id) => holder.get(id) === c).sort());
      expect(grabbed(d)).toEqual(cams.filter((id) => holder.get(id) === d).sort());
      // ... and stored by it, the row naming it.
      for (const s of taken) {
        const k = holder.get(s.camera_id)!;
        expect(s.node_id).toBe(k.store.config.nodeId);
        expect(existsSync(join(k.store.dataDir, 'snapshots', s.path))).toBe(true);
      }
    });

    it('/readyz on each node counts the cameras it records: both recording their two are ready', async () => {
      const readyz = async (k: MediumKernel) => {
        let status = 200;
        const res = {
          status(code: number) {
            status = code;
            return res;
          },
          setHeader: () => res,
        } as unknown as Response;
        const body = await k.get(HealthController).readyz(res);
        return { status, body };
      };
      // Each node's recorders report its own cameras recording (no ffmpeg here to really record).
      for (const k of [c, d])
        jest.spyOn(k.get(RecorderService), 'statusSnapshot').mockImplementation(() =>
          k
            .get(LeaseService)
            .heldCameras()
            .map(
              (cameraId) =>
                ({ cameraId, state: 'recording' }) as ReturnType<RecorderService['statusSnapshot']>[number],
            ),
        );
      // On main each node divided its two by all four cameras: 50 %, 503.
      for (const k of [c, d])
        expect(await readyz(k)).toEqual({
          status: 200,
          body: { ready: true, recording_pct: 100, required_pct: 100 },
        });
      // One of node-d's cameras stops recording: node-d is not ready, node-c still is.
      const [first] = d.get(LeaseService).heldCameras();
      jest
        .spyOn(d.get(RecorderService), 'statusSnapshot')
        .mockImplementation(
          () => [{ cameraId: first, state: 'recording' }] as ReturnType<RecorderService['statusSnapshot']>,
        );
      expect(await readyz(d)).toMatchObject({ status: 503, body: { ready: false, recording_pct: 50 } });
      expect((await readyz(c)).status).toBe(200);
    });
  });

if (ENGINE === 'sqlite')
  describe('a single node (sqlite): no node anywhere, as before', () => {
    let k: MediumKernel;
    beforeAll(async () => {
      k = await startMediumKernel();
    }, 60_000);
    afterAll(async () => {
      await k?.close();
    });

    it('day folders are recorded without a node, and an unchanged past one is not listed again', async () => {
      const cam = await k.uniqueCamera('sd');
      const d1 = Date.parse(`${dayOf(Date.now() - 3 * DAY_MS)}T00:00:00.000Z`);
      const d2 = d1 + DAY_MS;
      place(k, cam, dayOf(d1), [d1 + 3_600_000], d1 + 7_200_000);
      place(k, cam, dayOf(d2), [d2 + 3_600_000], d2 + 7_200_000);
      await k.get(IndexerService).scanCamera(cam);
      const days = await k
        .get(DatabaseService)
        .run((m) =>
          m.query<Array<{ node_id: string; day: string }>>(
            'SELECT node_id, day FROM indexed_days WHERE camera_id = ? ORDER BY day',
            [cam],
          ),
        );
      expect(days).toEqual([
        { node_id: '', day: dayOf(d1) },
        { node_id: '', day: dayOf(d2) },
      ]);
      const listed = jest.spyOn(k.get(StorageAdapter), 'listNames');
      try {
        await k.get(IndexerService).scanCamera(cam);
        expect(listed.mock.calls.map((c) => c[0])).not.toContain(
          join(k.store.config.recordingsDirAbs, cam, dayOf(d1)),
        );
      } finally {
        listed.mockRestore();
      }
    });

    it('snapshot schedules run on the one node, rows without a node', async () => {
      const grab = jest
        .spyOn(k.get(ExportsService), 'snapshot')
        .mockResolvedValue(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0xff, 0xd9]));
      try {
        const cam = await k.uniqueCamera('ss');
        await k.get(SnapshotsService).createSchedule(SYSTEM_PRINCIPAL, cam, { interval_seconds: 5 });
        const rows = await waitFor(
          async () => {
            const r = await k
              .get(DatabaseService)
              .run((m) =>
                m.query<Array<{ node_id: string | null }>>(
                  'SELECT node_id FROM snapshots WHERE camera_id = ?',
                  [cam],
                ),
              );
            return r.length > 0 ? r : null;
          },
          10_000,
          'a snapshot',
        );
        expect(rows[0].node_id).toBeNull();
      } finally {
        grab.mockRestore();
      }
    });
  });
