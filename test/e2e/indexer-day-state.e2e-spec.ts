import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageAdapter } from '../../src/media/storage.adapter';
import type { SegmentEntity } from '../../src/timeline/entities/segment.entity';
import { IndexerService } from '../../src/timeline/indexer.service';
import { SegmentPruner } from '../../src/timeline/segment-pruner.service';
import { TimelineRepository } from '../../src/timeline/timeline.repository';
import { rawQuery, startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/**
 * A reconciliation pass lists only the day folders changed since the last full look at them (issue
 * 14: no pass costs O(footage held)); what it skips is recorded per camera and day in `indexed_days`.
 */
const work = mkdtempSync(join(tmpdir(), 'heldar-day-state-'));
const two = join(work, 'two.mp4');
execFileSync('ffmpeg', [
  '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5:duration=2',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-pix_fmt', 'yuv420p', '-y', two,
]); // prettier-ignore

const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** Three past days, oldest first; 10:00 UTC on each. */
const DAYS = [3, 2, 1].map((n) => today - n * DAY_MS + 10 * 3_600_000);
const dayName = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const fileName = (ms: number) =>
  new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15) + '.mp4';
const QUIET = { HELDAR_INDEXER_INTERVAL_S: '3600' }; // only the passes the spec runs

describe(`day folder state: a pass lists only what changed (${ENGINE})`, () => {
  let t: TestApp;
  let indexer: IndexerService;
  let listed: jest.SpyInstance;

  beforeAll(async () => {
    t = await startTestApp({ env: QUIET });
    indexer = t.app.get(IndexerService);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(work, { recursive: true, force: true });
  });
  beforeEach(() => {
    listed = jest.spyOn(StorageAdapter.prototype, 'listNames');
  });
  afterEach(() => jest.restoreAllMocks());

  const camDir = (cam: string) => join(t.store.config.recordingsDirAbs, cam);
  const dayDir = (cam: string, ms: number) => join(camDir(cam), dayName(ms));
  /** A 2 s segment starting at `ms`, closed long ago. */
  const place = (cam: string, ms: number) => {
    mkdirSync(dayDir(cam, ms), { recursive: true });
    const p = join(dayDir(cam, ms), fileName(ms));
    copyFileSync(two, p);
    utimesSync(p, (ms + 2000) / 1000, (ms + 2000) / 1000);
  };
  /** A day folder last modified `hours` after its first file (nothing written there since). */
  const settle = (cam: string, ms: number, hours = 1) =>
    utimesSync(dayDir(cam, ms), (ms + hours * 3_600_000) / 1000, (ms + hours * 3_600_000) / 1000);
  const camera = async (cam: string) => {
    await t.http().post('/api/v1/cameras').send({ id: cam, name: cam, segment_seconds: 2 }).expect(201);
    for (const d of DAYS) {
      for (let i = 0; i < 3; i++) place(cam, d + i * 2000);
      settle(cam, d);
    }
  };
  const paths = async (cam: string) =>
    (
      (await t.http().get(`/api/v1/cameras/${cam}/segments?limit=100`).expect(200)).body as Array<{
        path: string;
      }>
    ).map((s) => s.path);
  const states = async (cam: string) =>
    (await rawQuery(t, `SELECT day, files FROM indexed_days WHERE camera_id = '${cam}' ORDER BY day`)).map(
      (r) => ({
        day: r.day,
        files: Number(r.files),
      }),
    );
  const listedDirs = () => listed.mock.calls.map((c) => c[0] as string);
  const expected = (cam: string) =>
    DAYS.flatMap((d) => [0, 1, 2].map((i) => `${cam}/${dayName(d)}/${fileName(d + i * 2000)}`));

  it('a pass over unchanged days stats them but lists only the newest; a file added behind its back is found, a deletion makes its folder listed', async () => {
    await camera('ds');
    await indexer.scanCamera('ds');
    expect(await paths('ds')).toEqual(expected('ds'));
    expect(await states('ds')).toEqual(DAYS.map((d) => ({ day: dayName(d), files: 3 })));

    listed.mockClear();
    await indexer.scanCamera('ds');
    // The camera folder (its day folders), and the newest day (a file there may have grown): nothing else.
    expect(listedDirs()).toEqual([camDir('ds'), dayDir('ds', DAYS[2])]);
    expect(await paths('ds')).toEqual(expected('ds'));

    // A segment appears in the oldest day folder without the recorder saying so (copied back, say).
    const late = DAYS[0] + 6000;
    place('ds', late);
    listed.mockClear();
    await indexer.scanCamera('ds');
    expect(listedDirs()).toContain(dayDir('ds', DAYS[0]));
    expect(listedDirs()).not.toContain(dayDir('ds', DAYS[1]));
    expect(await paths('ds')).toContain(`ds/${dayName(late)}/${fileName(late)}`);

    // A file of the middle day is deleted by hand: that folder is listed again.
    unlinkSync(join(dayDir('ds', DAYS[1]), fileName(DAYS[1])));
    listed.mockClear();
    await indexer.scanCamera('ds');
    expect(listedDirs()).toContain(dayDir('ds', DAYS[1]));
  });

  it('a pass never indexes again a file whose row is being deleted (its unlink still to come)', async () => {
    await camera('rz');
    await indexer.scanCamera('rz');
    const victim = expected('rz')[6]; // the newest day's first (a pass always lists that folder)
    const pruner = t.app.get(SegmentPruner);
    const storage = t.app.get(StorageAdapter);
    // The delete commits; before its unlink, a reconciliation pass runs (listed before, rows after).
    const unlink = jest.spyOn(storage, 'remove').mockImplementationOnce(async (file: string) => {
      await indexer.scanCamera('rz');
      unlink.mockRestore();
      return storage.remove(file);
    });
    // The 7 oldest: both older days and the newest day's first; the first unlink runs the pass.
    expect((await pruner.deleteOldest('rz', 7)).deleted).toBe(7);
    expect(await paths('rz')).toEqual(expected('rz').slice(7));
    expect(existsSync(join(t.store.config.recordingsDirAbs, victim))).toBe(false);
  });

  it('the orphan reclaim skips a folder seen whole and unchanged, and still reclaims a file the indexer gave up on', async () => {
    settle('ds', DAYS[0], 2);
    settle('ds', DAYS[1], 2);
    await indexer.scanCamera('ds'); // the changed folders are seen whole again
    expect((await states('ds')).map((s) => s.files)).toEqual([4, 2, 3]);
    // A file under a segment name that cannot be read: the indexer gives up on it after a few passes
    // (its folder is never recorded as seen whole), and the orphan reclaim removes it.
    const stray = join(dayDir('ds', DAYS[0]), fileName(DAYS[0] + 9000));
    writeFileSync(stray, Buffer.alloc(8192, 7));
    utimesSync(stray, (DAYS[0] + 11_000) / 1000, (DAYS[0] + 11_000) / 1000);
    for (let i = 0; i < 3; i++) await indexer.scanCamera('ds');
    listed.mockClear();
    const r = await t.app.get(SegmentPruner).reclaimOrphans(3_600_000);
    expect(r.files).toBe(1);
    expect(existsSync(stray)).toBe(false);
    expect(listedDirs()).not.toContain(dayDir('ds', DAYS[1]));
    expect(listedDirs()).toContain(dayDir('ds', DAYS[0]));
  });

  it("retention deleting segments of a day clears that day's state", async () => {
    const before = await states('ds');
    expect(before.map((s) => s.day)).toContain(dayName(DAYS[0]));
    const r = await t.app.get(SegmentPruner).deleteOldest('ds', 2);
    expect(r.deleted).toBe(2);
    expect((await states('ds')).map((s) => s.day)).not.toContain(dayName(DAYS[0]));
    listed.mockClear();
    await indexer.scanCamera('ds');
    expect(listedDirs()).toContain(dayDir('ds', DAYS[0]));
    // The two deleted files stay deleted, nothing is indexed twice.
    const now = await paths('ds');
    expect(now).toHaveLength(new Set(now).size);
    expect(now).not.toContain(`ds/${dayName(DAYS[0])}/${fileName(DAYS[0])}`);
  });

  it('a pass that dies mid-way loses nothing: a day is recorded only once all its rows are committed', async () => {
    await camera('cr');
    const repo = t.app.get(TimelineRepository);
    const insert = repo.insertSegments.bind(repo);
    const middle = `cr/${dayName(DAYS[1])}/`;
    jest.spyOn(repo, 'insertSegments').mockImplementation(async (rows: readonly SegmentEntity[]) => {
      if (rows.some((r) => r.path.startsWith(middle))) throw new Error('the kernel died here');
      return insert(rows);
    });
    await expect(indexer.scanCamera('cr')).rejects.toThrow('the kernel died here');
    expect(await states('cr')).toEqual([{ day: dayName(DAYS[0]), files: 3 }]);
    jest.restoreAllMocks();
    listed = jest.spyOn(StorageAdapter.prototype, 'listNames');
    await indexer.scanCamera('cr');
    expect(listedDirs()).not.toContain(dayDir('cr', DAYS[0]));
    expect(listedDirs()).toContain(dayDir('cr', DAYS[1]));
    expect(await paths('cr')).toEqual(expected('cr'));
    expect(await states('cr')).toEqual(DAYS.map((d) => ({ day: dayName(d), files: 3 })));
  });
});
