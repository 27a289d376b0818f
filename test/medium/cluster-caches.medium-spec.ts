import { randomBytes } from 'node:crypto';
import { IngestService } from '../../src/ai/ingest.service';
import { SYSTEM_PRINCIPAL } from '../../src/auth/principal';
import { CamerasService } from '../../src/cameras/cameras.service';
import { SitesService } from '../../src/cameras/sites.service';
import { CameraOwnership } from '../../src/cluster/camera-leases.ownership';
import { CameraNotFound } from '../../src/common/errors';
import { serverTimeZone } from '../../src/common/time-zone';
import { DatabaseService } from '../../src/database/database.service';
import { CacheInvalidation } from '../../src/events/cache-invalidation';
import { EventRelay, LISTENER_NAME } from '../../src/events/event-relay';
import { ExportsService } from '../../src/exports/exports.service';
import { RetentionService } from '../../src/retention/retention.service';
import { SchedulesService } from '../../src/schedules/schedules.service';
import { SnapshotsService } from '../../src/snapshots/snapshots.service';
import { ZonesService } from '../../src/zones/zones.service';
import { rawQuery, startTestApp, type TestApp, waitFor, withClockAhead } from '../support/test-app';
import { ENGINE, sharedTestStore } from '../support/test-db';

/** How long a change through one node may take to reach another node's cache ("about a second"). */
const REACH_MS = 1500;
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0xff, 0xd9]);
const GIB = 1024 ** 3;

const uid = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

async function camera(t: TestApp, extra: { site_id?: string } = {}): Promise<string> {
  const id = uid('cc');
  await t.app.get(CamerasService).create(SYSTEM_PRINCIPAL, { id, name: id, ...extra });
  return id;
}

/** One frame of track `track` whose ground point (bottom centre) is at (x, 0.6). */
const frame = (cameraId: string, track: string, x: number) => ({
  camera_id: cameraId,
  task_type: 'detection',
  detections: [{ label: 'person', confidence: 0.9, track_id: track, bbox: [x - 0.05, 0.4, 0.1, 0.2] }],
});

const LEFT: Array<[number, number]> = [
  [0, 0],
  [0.5, 0],
  [0.5, 1],
  [0, 1],
];
const RIGHT: Array<[number, number]> = [
  [0.5, 0],
  [1, 0],
  [1, 1],
  [0.5, 1],
];

/**
 * The scenarios, each with a change made through `a` and read from `b`'s cache: on PostgreSQL two
 * kernels on one database (a cluster), on SQLite the one kernel as both (its own change, local).
 */
function scenarios(nodes: () => { a: TestApp; b: TestApp }) {
  it('zones: detections on B after a zone edit on A produce events for the new polygon', async () => {
    const { a, b } = nodes();
    const cam = await camera(a);
    const { zone } = await a.app.get(ZonesService).create(SYSTEM_PRINCIPAL, cam, {
      name: 'door',
      polygon: LEFT,
      config: { confirm_frames: 1 },
    });
    const ingestB = b.app.get(IngestService);
    const enters = async () =>
      rawQuery(a, `SELECT zone_id FROM zone_events WHERE camera_id = '${cam}' AND event_type = 'enter'`);
    // On the right: outside the zone as first drawn; B holds the zone (left half) from now on.
    await ingestB.ingest(SYSTEM_PRINCIPAL, frame(cam, 'p1', 0.75));
    await ingestB.ingest(SYSTEM_PRINCIPAL, frame(cam, 'p1', 0.76));
    expect(await enters()).toEqual([]);

    await a.app.get(ZonesService).update(SYSTEM_PRINCIPAL, zone.id, { polygon: RIGHT });
    let x = 0.75;
    const rows = await waitFor(
      async () => {
        await ingestB.ingest(SYSTEM_PRINCIPAL, frame(cam, 'p1', (x += 0.001)));
        const r = await enters();
        return r.length > 0 ? r : null;
      },
      REACH_MS,
      "an enter on B for A's new polygon",
    );
    expect(rows).toEqual([{ zone_id: zone.id }]);

    // Deleted through A: a new track where the zone was makes no event on B.
    await a.app.get(ZonesService).delete(SYSTEM_PRINCIPAL, zone.id);
    await new Promise((r) => setTimeout(r, REACH_MS));
    await ingestB.ingest(SYSTEM_PRINCIPAL, frame(cam, 'p2', 0.8));
    await ingestB.ingest(SYSTEM_PRINCIPAL, frame(cam, 'p2', 0.81));
    expect(
      await rawQuery(a, `SELECT zone_id FROM zone_events WHERE camera_id = '${cam}' AND track_id = 'p2'`),
    ).toEqual([]);
  });

  it("recording schedules: B's schedule check sees a window created, then deleted, through A", async () => {
    const { a, b } = nodes();
    const cam = await camera(a);
    const onB = b.app.get(SchedulesService);
    const open = () => Promise.resolve(onB.isOpen(cam, 'UTC', Date.now()));
    expect(await open()).toBe(false);
    const w = await a.app
      .get(SchedulesService)
      .create(SYSTEM_PRINCIPAL, cam, { days: [0, 1, 2, 3, 4, 5, 6], time_start: '00:00', time_end: '24:00' });
    expect(await waitFor(open, REACH_MS, "A's window on B")).toBe(true);
    await a.app.get(SchedulesService).update(SYSTEM_PRINCIPAL, w.id, { enabled: false });
    await waitFor(async () => !(await open()), REACH_MS, "A's disabled window closed on B");
    await a.app.get(SchedulesService).update(SYSTEM_PRINCIPAL, w.id, { enabled: true });
    await waitFor(open, REACH_MS, 'enabled again');
    await a.app.get(SchedulesService).delete(SYSTEM_PRINCIPAL, w.id);
    await waitFor(async () => !(await open()), REACH_MS, "A's deleted window gone on B");
  });

  it('snapshot schedules: B takes the shots of a schedule A created, at the interval A set, none once A deleted it', async () => {
    const { a, b } = nodes();
    const cam = await camera(a);
    // No camera to grab from: every grab (on either node) answers a JPEG, and B's are counted.
    jest.spyOn(a.app.get(ExportsService), 'snapshot').mockResolvedValue(JPEG);
    const grabs = jest.spyOn(b.app.get(ExportsService), 'snapshot').mockResolvedValue(JPEG);
    // Schedules run on the node that records the camera; these kernels record nothing, so B is
    // made its lease holder (what is under test is B's copy of A's schedules, not who holds it).
    jest.spyOn(b.app.get(CameraOwnership), 'owns').mockImplementation((id) => id === cam);
    const onB = b.app.get(SnapshotsService);
    const grabbed = () => grabs.mock.calls.filter((c) => c[0] === cam).length;
    /** B's loop ticks (by hand), then has B shot `n` times? */
    const shotOnB = async (n: number) => {
      await onB.tick();
      return grabbed() === n;
    };
    try {
      await onB.tick();
      const s = await a.app
        .get(SnapshotsService)
        .createSchedule(SYSTEM_PRINCIPAL, cam, { interval_seconds: 3600 });
      await waitFor(() => shotOnB(1), REACH_MS, "B's first shot of A's schedule");
      // A new interval restarts the schedule: B shoots again at once.
      await a.app.get(SnapshotsService).updateSchedule(SYSTEM_PRINCIPAL, s.id, { interval_seconds: 60 });
      await waitFor(() => shotOnB(2), REACH_MS, "B's shot at A's new interval");
      await a.app.get(SnapshotsService).deleteSchedule(SYSTEM_PRINCIPAL, s.id);
      await new Promise((r) => setTimeout(r, REACH_MS));
      // Hours later by B's clock, the deleted schedule is not due: it is gone from B.
      await withClockAhead(b, 7_200_000, () => Promise.resolve(onB.tick()));
      expect(grabbed()).toBe(2);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it("sites: B's camera policies take the time zone of a site changed, then deleted, through A", async () => {
    const { a, b } = nodes();
    const site = await a.app
      .get(SitesService)
      .create(SYSTEM_PRINCIPAL, { name: uid('site'), timezone: 'UTC' });
    const cam = await camera(a, { site_id: site.id });
    const zoneOnB = async () => (await b.app.get(CamerasService).getPolicy(cam))?.timezone;
    expect(await waitFor(zoneOnB, REACH_MS, "A's camera on B")).toBe('UTC');
    // A's camera_created also reaches B (and drops its policies): let it land, so that what follows
    // proves the site change itself.
    await new Promise((r) => setTimeout(r, 300));
    const tz = serverTimeZone() === 'Pacific/Chatham' ? 'Asia/Kathmandu' : 'Pacific/Chatham';
    await a.app.get(SitesService).update(SYSTEM_PRINCIPAL, site.id, { timezone: tz });
    await waitFor(async () => (await zoneOnB()) === tz, REACH_MS, "A's site time zone on B");
    await a.app.get(SitesService).delete(SYSTEM_PRINCIPAL, site.id);
    await waitFor(async () => (await zoneOnB()) === serverTimeZone(), REACH_MS, "the server's zone on B");
  });

  it('cameras: a camera deleted through A no longer exists for B', async () => {
    const { a, b } = nodes();
    const cam = await camera(a);
    const onB = b.app.get(CamerasService);
    await onB.assertVisible(SYSTEM_PRINCIPAL, cam, 'read it'); // B remembers that it exists
    await a.app.get(CamerasService).delete(SYSTEM_PRINCIPAL, cam);
    const gone = await waitFor(
      () =>
        onB.assertVisible(SYSTEM_PRINCIPAL, cam, 'read it').then(
          () => false,
          (err: unknown) => err,
        ),
      REACH_MS,
      'B to forget the camera',
    );
    expect(gone).toBeInstanceOf(CameraNotFound);
  });

  it('settings: B reads the retention limits A set (read from the table each time: nothing cached)', async () => {
    const { a, b } = nodes();
    await a.app.get(RetentionService).updateLimits(SYSTEM_PRINCIPAL, { max_recordings_gb: 12 });
    expect(await b.app.get(RetentionService).limits()).toMatchObject({
      capBytes: 12 * GIB,
      capOverridden: true,
    });
    await a.app.get(RetentionService).updateLimits(SYSTEM_PRINCIPAL, { max_recordings_gb: null });
    expect((await b.app.get(RetentionService).limits()).capOverridden).toBe(false);
  });
}

if (ENGINE === 'postgres') {
  describe('caches across the nodes of a cluster: two kernels on one PostgreSQL', () => {
    let a: TestApp;
    let b: TestApp;

    beforeAll(async () => {
      a = await startTestApp({ env: { HELDAR_NODE_ID: 'node-a' } });
      b = await startTestApp({ store: sharedTestStore(a.store, { HELDAR_NODE_ID: 'node-b' }) });
    });

    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    scenarios(() => ({ a, b }));

    it("a change made while B's notification connection was down reaches B's caches once it is back", async () => {
      const relay = b.app.get(EventRelay);
      const cam = await camera(a);
      const onB = b.app.get(SchedulesService);
      expect(onB.isOpen(cam, 'UTC', Date.now())).toBe(false);
      const killed = await rawQuery(
        a,
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE application_name = '${LISTENER_NAME} node-b' AND datname = current_database()`,
      );
      expect(killed).toEqual([{ ok: true }]);
      await waitFor(async () => !relay.listening, 5000, "B's listener to notice");
      await a.app.get(SchedulesService).create(SYSTEM_PRINCIPAL, cam, {
        days: [0, 1, 2, 3, 4, 5, 6],
        time_start: '00:00',
        time_end: '24:00',
      });
      await waitFor(async () => relay.listening, 10_000, "B's listener to reconnect");
      await waitFor(async () => onB.isOpen(cam, 'UTC', Date.now()), REACH_MS, "A's window on B");
    });
  });
} else {
  describe('caches on SQLite: one node, its own changes invalidate them at once', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp();
    });

    afterAll(async () => {
      await t?.close();
    });

    scenarios(() => ({ a: t, b: t }));

    it('publishing sends no notification: no query at all', async () => {
      expect(t.app.get(EventRelay).listening).toBe(false);
      const db = t.app.get(DatabaseService);
      const run = jest.spyOn(db, 'run');
      const select = jest.spyOn(db, 'select');
      const seen: Array<Record<string, string> | null> = [];
      const off = t.app
        .get(CacheInvalidation)
        .on('x_test', (keys) => void seen.push(keys ? { ...keys } : null));
      try {
        await t.app.get(CacheInvalidation).publish('x_test', { id: '1' });
        expect(seen).toEqual([{ id: '1' }]);
        expect(run).not.toHaveBeenCalled();
        expect(select).not.toHaveBeenCalled();
      } finally {
        off();
        jest.restoreAllMocks();
      }
    });
  });
}
