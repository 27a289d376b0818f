import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { Coverage1765700000000 } from '../../migrations/1765700000000-coverage';
import { prefixedId } from '../../src/common/ids';
import { DatabaseService } from '../../src/database/database.service';
import { RetentionService } from '../../src/retention/retention.service';
import { CoverageEntity } from '../../src/timeline/entities/coverage.entity';
import { SegmentUsageEntity } from '../../src/timeline/entities/segment-usage.entity';
import { SegmentEntity } from '../../src/timeline/entities/segment.entity';
import { SegmentPruner } from '../../src/timeline/segment-pruner.service';
import {
  bucketOf,
  coveragePieces,
  findHoles,
  mergeRanges,
  type Span,
} from '../../src/timeline/timeline-logic';
import { TimelineRepository } from '../../src/timeline/timeline.repository';
import { TimelineService } from '../../src/timeline/timeline.service';
import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const T = Date.UTC(2026, 0, 10, 0, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const at = (sec: number) => iso(T + sec * 1000);

function segment(cameraId: string, startSec: number, lenSec: number, sizeBytes = 1000): SegmentEntity {
  const id = prefixedId('seg_');
  return {
    id,
    cameraId,
    path: `${cameraId}/${id}.mp4`,
    startTime: at(startSec),
    endTime: at(startSec + lenSec),
    durationS: lenSec,
    codec: 'h264',
    width: 320,
    height: 240,
    fps: 5,
    sizeBytes,
    container: 'mp4',
    locked: 0,
    evidenceLocked: false,
    incidentId: null,
    createdAt: iso(T),
  };
}

/** Seconds over ~5 hours from T, so segments fall in several buckets and straddle their edges. */
const second = fc.integer({ min: 0, max: 5 * 3600 });
const ops = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('insert' as const), start: second, len: fc.integer({ min: 1, max: 400 }), size: fc.integer({ min: 1, max: 5000 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('clampInsert' as const), start: second, len: fc.integer({ min: 1, max: 400 }), size: fc.integer({ min: 1, max: 5000 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('repair' as const), pick: fc.nat(), len: fc.integer({ min: 1, max: 400 }), size: fc.integer({ min: 1, max: 5000 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), n: fc.integer({ min: 1, max: 6 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('evidence' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('readLock' as const), pick: fc.nat(), delta: fc.constantFrom(1 as const, -1 as const) }) },
  ),
  { minLength: 1, maxLength: 40 },
); // prettier-ignore

describe(`stored coverage and usage (${ENGINE})`, () => {
  let t: TestApp;
  let repo: TimelineRepository;
  let timeline: TimelineService;
  let db: DatabaseService;

  beforeAll(async () => {
    t = await startTestApp({
      env: { HELDAR_INDEXER_INTERVAL_S: '3600', HELDAR_RETENTION_INTERVAL_S: '86400' },
    });
    repo = t.app.get(TimelineRepository);
    timeline = t.app.get(TimelineService);
    db = t.app.get(DatabaseService);
  });

  afterAll(async () => {
    await t?.close();
  });

  const allSegments = (cameraId: string) =>
    db.run((m) => m.getRepository(SegmentEntity).find({ where: { cameraId }, order: { startTime: 'ASC' } }));

  /** Today's (pre-coverage) answers, from every segment overlapping the window. */
  async function reference(cameraId: string, fromIso: string, toIso: string) {
    const rows = (await repo.spans(cameraId, fromIso, toIso, 200_000)).map((r): Span => ({
      startMs: Date.parse(r.start),
      endMs: Date.parse(r.end),
    }));
    const lo = Date.parse(fromIso);
    const hi = Date.parse(toIso);
    const ranges = mergeRanges(rows)
      .map((r) => ({ start: iso(Math.max(r.startMs, lo)), end: iso(Math.min(r.endMs, hi)) }))
      .filter((r) => r.end > r.start);
    const holes = findHoles(rows, lo, hi).map((h) => ({ start: iso(h.startMs), end: iso(h.endMs) }));
    return { ranges, holes, count: rows.length };
  }

  async function expectConsistent(cameraId: string, windows: Array<[number, number]>): Promise<void> {
    const segs = await allSegments(cameraId);
    // The coverage rows are exactly the per-bucket merge of the segments rows.
    const buckets = new Map<number, Span[]>();
    for (const s of segs) {
      const span = { startMs: Date.parse(s.startTime), endMs: Date.parse(s.endTime) };
      const b = bucketOf(span.startMs);
      buckets.set(b, [...(buckets.get(b) ?? []), span]);
    }
    const expected = [...buckets.keys()]
      .sort((a, b) => a - b)
      .flatMap((b) => coveragePieces(buckets.get(b)!))
      .map((p) => ({ start: iso(p.startMs), end: iso(p.endMs), count: p.count, last: iso(p.lastStartMs) }));
    const stored = await db.run((m) =>
      m.getRepository(CoverageEntity).find({ where: { cameraId }, order: { startTime: 'ASC' } }),
    );
    expect(
      stored.map((c) => ({ start: c.startTime, end: c.endTime, count: c.segmentCount, last: c.lastStart })),
    ).toEqual(expected);
    // The usage row is exactly the aggregate of the segments rows.
    const prot = segs.filter((s) => s.evidenceLocked || s.locked > 0);
    const usage = await db.run((m) => m.getRepository(SegmentUsageEntity).findOneBy({ cameraId }));
    expect({
      count: usage?.segmentCount ?? 0,
      bytes: usage?.totalBytes ?? 0,
      protectedCount: usage?.protectedCount ?? 0,
      protectedBytes: usage?.protectedBytes ?? 0,
    }).toEqual({
      count: segs.length,
      bytes: segs.reduce((n, s) => n + s.sizeBytes, 0),
      protectedCount: prot.length,
      protectedBytes: prot.reduce((n, s) => n + s.sizeBytes, 0),
    });
    // The timeline and gaps answer as they did from every segment.
    for (const [a, b] of windows) {
      const from = at(Math.min(a, b));
      const to = at(Math.max(a, b));
      const ref = await reference(cameraId, from, to);
      const tl = await timeline.getTimeline(cameraId, from, to);
      expect({
        ranges: tl.ranges.map((r) => ({ start: r.start, end: r.end })),
        count: tl.segment_count,
      }).toEqual({
        ranges: ref.ranges,
        count: ref.count,
      });
      const gaps = await timeline.getGaps(cameraId, from, to);
      expect(gaps.gaps.map((g) => ({ start: g.start, end: g.end }))).toEqual(ref.holes);
    }
  }

  it('after random inserts (in and out of order), clamps, repairs, deletes and locks, coverage, usage, timeline and gaps match a from-scratch merge', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        ops,
        fc.array(
          fc.tuple(fc.integer({ min: -4000, max: 6 * 3600 }), fc.integer({ min: -4000, max: 6 * 3600 })),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        async (steps, windows) => {
          const cam = `cov${run++}`;
          for (const op of steps) {
            const segs = await allSegments(cam);
            const pick = (n: number) => segs[n % segs.length];
            if (op.kind === 'insert') await repo.insertSegment(segment(cam, op.start, op.len, op.size));
            else if (op.kind === 'clampInsert') {
              // As the indexer does: clamp what runs past the new start, then insert.
              await repo.transaction(async () => {
                await repo.clampOverlaps(cam, at(op.start));
                await repo.insertSegment(segment(cam, op.start, op.len, op.size));
              });
            } else if (segs.length === 0) continue;
            else if (op.kind === 'repair') {
              const s = pick(op.pick);
              await repo.repairSegment(s.path, {
                endTime: iso(Date.parse(s.startTime) + op.len * 1000),
                sizeBytes: op.size,
                durationS: op.len,
              });
            } else if (op.kind === 'delete') await repo.deleteOldestDeletable(cam, op.n);
            else if (op.kind === 'evidence') {
              const s = pick(op.pick);
              await repo.setEvidence(s.id, !s.evidenceLocked);
            } else await repo.addReadLock([pick(op.pick).id], op.delta);
          }
          await expectConsistent(cam, [...windows, [0, 5 * 3600 + 400], [-7200, 9 * 3600]]);
          // No window at all (the whole history), as the API answers it.
          const whole = await timeline.getTimeline(cam);
          const ref = await reference(cam, iso(0), iso(Date.now() + 86_400_000));
          expect(whole.segment_count).toBe(ref.count);
          expect(whole.ranges.map((r) => ({ start: r.start, end: r.end }))).toEqual(ref.ranges);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('clearing stale read locks (boot) and deleting a camera keep usage and coverage exact', async () => {
    const cam = 'covboot';
    const segs = [segment(cam, 0, 60, 100), segment(cam, 60, 60, 200), segment(cam, 4000, 60, 300)];
    await repo.insertSegments(segs);
    await repo.addReadLock([segs[0].id, segs[1].id], 1);
    await repo.setEvidence(segs[1].id, true);
    expect((await repo.usageByCamera()).find((u) => u.cameraId === cam)).toEqual({
      cameraId: cam,
      totalBytes: 600,
      protectedBytes: 300,
      deletableBytes: 300,
      deletableCount: 1,
    });
    await repo.clearReadLocks();
    expect((await repo.usageByCamera()).find((u) => u.cameraId === cam)).toMatchObject({
      protectedBytes: 200,
      deletableBytes: 400,
      deletableCount: 2,
    });
    expect(await repo.totals([cam])).toEqual({ count: 3, oldest: at(0), newest: at(4060) });
    await expectConsistent(cam, [[0, 5000]]);
    await repo.deleteCamera(cam);
    expect((await repo.usageByCamera()).find((u) => u.cameraId === cam)).toBeUndefined();
    expect(await db.run((m) => m.getRepository(CoverageEntity).countBy({ cameraId: cam }))).toBe(0);
    expect(await repo.totals([cam])).toEqual({ count: 0, oldest: null, newest: null });
  });

  it('the migration fills coverage and usage from segments already held (across page edges)', async () => {
    const cams = ['covmig1', 'covmig2'];
    const segs = cams.flatMap((cam, c) =>
      Array.from({ length: 40 }, (_, i) =>
        segment(cam, i * 300 + (i % 7 === 0 ? 5 : 0) + c, i % 5 === 0 ? 120 : 60, 10 + i),
      ),
    );
    await repo.insertSegments(segs);
    // Forget what was maintained, then let the migration rebuild it from the segments alone.
    const runner = t.app.get(DataSource).createQueryRunner();
    try {
      await db.run(async () => {
        const migration = new Coverage1765700000000(7);
        await migration.down(runner);
        await migration.up(runner);
      });
    } finally {
      await runner.release();
    }
    for (const cam of cams)
      await expectConsistent(cam, [
        [0, 40 * 300],
        [1000, 5000],
      ]);
  });

  it('a sweep with nothing to delete asks each camera for its oldest start and deletes nothing', async () => {
    await t
      .http()
      .post('/api/v1/cameras')
      .send({ id: 'covret', name: 'covret', retention_hours: 24 })
      .expect(201);
    const now = Date.now();
    await repo.insertSegment({
      ...segment('covret', 0, 60),
      startTime: iso(now - 3_600_000),
      endTime: iso(now - 3_540_000),
    });
    const pruner = t.app.get(SegmentPruner);
    const deleteOldest = jest.spyOn(pruner, 'deleteOldest');
    const oldestStart = jest.spyOn(pruner, 'oldestStart');
    try {
      const report = await t.app.get(RetentionService).sweep();
      expect(report.errors).toEqual([]);
      expect(report.age.deleted).toBe(0);
      expect(deleteOldest).not.toHaveBeenCalled();
      expect(oldestStart).toHaveBeenCalledWith('covret');
    } finally {
      deleteOldest.mockRestore();
      oldestStart.mockRestore();
    }
  });
});
