import { Test, type TestingModule } from '@nestjs/testing';
import type BetterSqlite3 from 'better-sqlite3';
import { CommonModule } from '../../src/common/common.module';
import { RowRetention } from '../../src/common/row-retention';
import { ConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { ENTITIES } from '../../src/app.entities';
import { DatabaseService } from '../../src/database/database.service';
import type { SegmentEntity } from '../../src/timeline/entities/segment.entity';
import { TimelineRepository } from '../../src/timeline/timeline.repository';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** `n` 60 s segments of `cameraId` from `fromMs`, every `stepMs` (a step over 60 s leaves holes). */
function rows(cameraId: string, n: number, fromMs = T0, stepMs = 60_000): SegmentEntity[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `seg_${cameraId}_${String(i).padStart(5, '0')}`,
    cameraId,
    path: `${cameraId}/${iso(fromMs + i * stepMs).slice(0, 10)}/${i}.mp4`,
    startTime: iso(fromMs + i * stepMs),
    endTime: iso(fromMs + i * stepMs + 60_000),
    durationS: 60,
    codec: 'h264',
    width: 640,
    height: 360,
    fps: 10,
    sizeBytes: 1000 + i,
    container: 'mp4',
    locked: 0,
    evidenceLocked: false,
    incidentId: null,
    createdAt: iso(T0),
  }));
}

describe(`segment rows: batch insert, index use and keep decisions (${ENGINE})`, () => {
  let store: TestStore;
  let mod: TestingModule;
  let db: DatabaseService;
  let repo: TimelineRepository;

  beforeAll(async () => {
    store = await createTestStore();
    mod = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(store.config), CommonModule, DatabaseModule.forRoot(ENTITIES)],
    }).compile();
    await mod.init();
    db = mod.get(DatabaseService);
    repo = new TimelineRepository(db, mod.get(RowRetention));
  });

  afterAll(async () => {
    await mod.close();
    await store.cleanup();
  });

  const coverage = (cameraId: string) =>
    db.run<Array<Record<string, unknown>>>((m) =>
      m.query(
        `SELECT start_time, end_time, segment_count, last_start FROM coverage WHERE camera_id = ${db.isSqlite ? '?' : '$1'} ORDER BY start_time`,
        [cameraId],
      ),
    );
  const usage = (cameraId: string) =>
    db.run<Array<Record<string, unknown>>>((m) =>
      m.query(
        `SELECT segment_count, total_bytes FROM segment_usage WHERE camera_id = ${db.isSqlite ? '?' : '$1'}`,
        [cameraId],
      ),
    );

  it('insertSegments leaves the coverage and usage that inserting the rows one by one leaves', async () => {
    // Holes, runs across hour buckets, a page appended to a stored piece, and one row landing before
    // the last start of its bucket (the bucket is merged again).
    const shape = (cam: string) => {
      const a = rows(cam, 150, T0, 60_000);
      const b = rows(cam, 40, T0 + 200 * 60_000, 90_000).map((r) => ({
        ...r,
        id: `${r.id}b`,
        path: `${r.path}b`,
      }));
      const late = rows(cam, 1, T0 + 205 * 60_000 + 10_000).map((r) => ({
        ...r,
        id: `${r.id}c`,
        path: `${r.path}c`,
      }));
      return [a.slice(0, 70), a.slice(70), [...b.slice(0, 20), ...late, ...b.slice(20)]];
    };
    for (const page of shape('one')) for (const r of page) await repo.insertSegment(r);
    for (const page of shape('many')) await repo.insertSegments(page);
    const strip = (x: Array<Record<string, unknown>>) =>
      x.map((r) => ({ ...r, segment_count: Number(r.segment_count) }));
    const many = strip(await coverage('many'));
    expect(many.length).toBeGreaterThan(3);
    expect(many).toEqual(strip(await coverage('one')));
    expect((await usage('many')).map((u) => [Number(u.segment_count), Number(u.total_bytes)])).toEqual(
      (await usage('one')).map((u) => [Number(u.segment_count), Number(u.total_bytes)]),
    );
  });

  it('retention and the write-rate read a camera through an index, never sorting or scanning all its rows', async () => {
    for (const cam of ['ia', 'ib', 'ic']) await repo.insertSegments(rows(cam, 500));
    const capture = async (fn: () => Promise<unknown>): Promise<string[]> => {
      if (!db.isSqlite) {
        await fn();
        return [];
      }
      const conn = (db.dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database })
        .databaseConnection;
      const seen: string[] = [];
      const prepare = conn.prepare.bind(conn);
      conn.prepare = (sql: string) => {
        if (/^\s*SELECT/i.test(sql) && /"segments"|\bsegments\b/.test(sql)) seen.push(sql);
        return prepare(sql);
      };
      try {
        await fn();
      } finally {
        conn.prepare = prepare;
      }
      return seen;
    };
    const plans = (sqls: string[]) => {
      const conn = (db.dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database })
        .databaseConnection;
      return sqls.flatMap((sql) =>
        (
          conn
            .prepare(`EXPLAIN QUERY PLAN ${sql}`)
            .all(...(sql.match(/\?/g) ?? []).map(() => null)) as Array<{ detail: string }>
        ).map((r) => r.detail),
      );
    };

    const byAge = await capture(() => repo.deleteOldestDeletable('ia', 5, iso(T0 + 10 * 60_000)));
    const byQuota = await capture(() => repo.deleteOldestDeletable('ib', 5));
    const written = await capture(() => repo.bytesEndedSince(iso(T0 + 480 * 60_000)));
    // The oldest of the camera go, by age and by quota alike.
    const left = async (cam: string) =>
      (await repo.segments(cam, iso(T0 - 1), iso(T0 + 10 * 60_000), 100)).length;
    expect(await left('ia')).toBe(5);
    expect(await left('ib')).toBe(5);
    expect(await left('ic')).toBe(10);
    // 20 segments of each camera end at or after the cutoff.
    expect([...(await repo.bytesEndedSince(iso(T0 + 480 * 60_000))).keys()].sort()).toEqual([
      'ia',
      'ib',
      'ic',
    ]);
    if (db.isSqlite) {
      const all = plans([...byAge, ...byQuota, ...written]);
      expect(all.length).toBeGreaterThan(0);
      expect(all.filter((d) => /TEMP B-TREE|^SCAN s\b|^SCAN segments\b/.test(d))).toEqual([]);
    }
  });

  it('previousEnd: the latest end before a start, across a hole of hours and past a long segment', async () => {
    const cam = 'pe';
    const base = rows(cam, 3); // 00:00–00:03
    const long = { ...rows(cam, 1, T0 + 10 * 60_000)[0], id: 'seg_pe_long', path: 'pe/long.mp4' };
    long.endTime = iso(T0 + 70 * 60_000); // 00:10–01:10, an hour long
    const short = { ...rows(cam, 1, T0 + 50 * 60_000)[0], id: 'seg_pe_short', path: 'pe/short.mp4' }; // 00:50–00:51
    await repo.insertSegments([...base, long, short]);
    expect(await repo.previousEnd(cam, iso(T0))).toBeNull();
    expect(await repo.previousEnd(cam, iso(T0 + 2 * 60_000))).toBe(iso(T0 + 2 * 60_000)); // end of 00:01
    // The latest start before 00:55 is 00:50, but the segment of 00:10 ends later.
    expect(await repo.previousEnd(cam, iso(T0 + 55 * 60_000))).toBe(iso(T0 + 70 * 60_000));
    // Five hours after the last one.
    expect(await repo.previousEnd(cam, iso(T0 + 6 * 3_600_000))).toBe(iso(T0 + 70 * 60_000));
  });

  // A segment indexed late (its file closed after the next one's): the indexer had already
  // recorded a gap from the previous segment's end, which is exactly where the late one starts.
  it('a dropped run starting where a gap already starts extends that gap instead of failing the decision', async () => {
    const [p, q, r] = rows('late', 3, T0, 60_000);
    for (const s of [p, q, r]) await repo.insertSegment({ ...s, keptBy: 'pending' });
    await repo.insertGap({
      id: 'gap_indexer',
      cameraId: 'late',
      gapStart: p.endTime,
      gapEnd: iso(T0 + 90_000),
      gapSeconds: 30,
      cause: 'server_down',
      fillState: 'pending',
      createdAt: iso(T0),
    });
    const gone = await repo.decideSegments('late', [{ id: p.id, keptBy: 'event:door' }], [q.id], iso(T0));
    expect(gone.map((g) => g.id)).toEqual([q.id]);
    const gaps = await repo.gaps('late', 10);
    expect(gaps.map((g) => [g.gapStart, g.gapEnd, g.cause])).toEqual([[q.startTime, q.endTime, 'no_event']]);
    // Deciding again (a second decision pass over the same rows) changes nothing.
    expect(await repo.decideSegments('late', [], [q.id], iso(T0))).toEqual([]);
    expect((await repo.gaps('late', 10)).length).toBe(1);
  });
});
