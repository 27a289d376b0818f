import {
  floorBatchSize,
  forecast,
  keptWriteRate,
  maxMinShares,
  pickClipsForFloor,
  pickEvictionCamera,
  segmentsFor,
  type ForecastCamera,
} from './retention-logic';

const GB = 1024 ** 3;

const cam = (over: Partial<ForecastCamera> & { cameraId: string }): ForecastCamera => ({
  name: over.cameraId,
  retentionHours: 24 * 7,
  quotaBytes: null,
  recordingsBytes: 0,
  protectedBytes: 0,
  writeRateBytesPerDay: 0,
  ...over,
});

describe('maxMinShares', () => {
  it('meets small demands in full and splits the rest evenly', () => {
    expect(maxMinShares(100, [10, 80, 80])).toEqual([10, 45, 45]);
  });

  it('never hands out more than the demands', () => {
    expect(maxMinShares(1000, [10, 20])).toEqual([10, 20]);
  });

  it('gives nothing from a non-positive capacity', () => {
    expect(maxMinShares(0, [5, 5])).toEqual([0, 0]);
    expect(maxMinShares(-3, [5])).toEqual([0]);
  });

  it('sums to the capacity when demand exceeds it', () => {
    const shares = maxMinShares(90, [50, 40, 30, 5]);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(90);
    expect(shares[3]).toBe(5);
  });
});

describe('pickEvictionCamera', () => {
  it('picks the camera furthest above its fair share', () => {
    const usage = [
      { cameraId: 'small', deletableBytes: 10 },
      { cameraId: 'big', deletableBytes: 200 },
      { cameraId: 'mid', deletableBytes: 90 },
    ];
    // budget 150: small keeps 10, the others are levelled at 70 → big is 130 over, mid 20.
    expect(pickEvictionCamera(usage, 150)).toEqual({ cameraId: 'big', overBytes: 130 });
  });

  it('moves on to the next camera once the first is levelled', () => {
    const usage = [
      { cameraId: 'a', deletableBytes: 70 },
      { cameraId: 'b', deletableBytes: 90 },
    ];
    expect(pickEvictionCamera(usage, 140)?.cameraId).toBe('b');
    expect(
      pickEvictionCamera(
        [
          { cameraId: 'a', deletableBytes: 70 },
          { cameraId: 'b', deletableBytes: 70 },
        ],
        130,
      ),
    ).toEqual({ cameraId: 'a', overBytes: 5 });
  });

  it('returns null when everything fits or nothing is deletable', () => {
    expect(pickEvictionCamera([{ cameraId: 'a', deletableBytes: 10 }], 10)).toBeNull();
    expect(pickEvictionCamera([{ cameraId: 'a', deletableBytes: 0 }], -5)).toBeNull();
  });

  it('evicts everything deletable when the budget is gone (locked footage exceeds the cap)', () => {
    expect(pickEvictionCamera([{ cameraId: 'a', deletableBytes: 1 }], 0)).toEqual({
      cameraId: 'a',
      overBytes: 1,
    });
  });
});

describe('segmentsFor', () => {
  it('deletes just enough segments to cover the overage, at most `max`', () => {
    expect(segmentsFor(70, 10, 20)).toBe(7);
    expect(segmentsFor(71, 10, 20)).toBe(8);
    expect(segmentsFor(1, 10, 20)).toBe(1);
    expect(segmentsFor(1e6, 10, 20)).toBe(20);
    expect(segmentsFor(5, 0, 20)).toBe(20);
  });
});

describe('floorBatchSize', () => {
  it('covers the deficit in average segments, clamped to [20, 256]', () => {
    expect(floorBatchSize(100, 10)).toBe(20);
    expect(floorBatchSize(1000, 10)).toBe(100);
    expect(floorBatchSize(1e9, 10)).toBe(256);
    expect(floorBatchSize(1000, 0)).toBe(20);
  });
});

describe('forecast', () => {
  it('keeps each camera its retention when the cap allows it', () => {
    const f = forecast({
      cameras: [
        cam({ cameraId: 'a', writeRateBytesPerDay: GB }),
        cam({ cameraId: 'b', writeRateBytesPerDay: 2 * GB }),
      ],
      capBytes: 100 * GB,
      minFreeBytes: 0,
      disk: null,
    });
    expect(f.bound_by).toBe('cap');
    expect(f.write_rate_bytes_per_day).toBe(3 * GB);
    expect(f.store_days).toBeCloseTo(33.33, 2);
    expect(f.cameras.map((c) => [c.days_kept, c.retention_achievable, c.limited_by])).toEqual([
      [7, true, 'retention_hours'],
      [7, true, 'retention_hours'],
    ]);
  });

  it('splits a tight cap max-min fairly and says which retention cannot be met', () => {
    // a wants 7 GB (1 GB/day × 7 d), b wants 70 GB; 30 GB cap → a keeps its 7, b gets 23 → 2.3 days.
    const f = forecast({
      cameras: [
        cam({ cameraId: 'a', writeRateBytesPerDay: GB }),
        cam({ cameraId: 'b', writeRateBytesPerDay: 10 * GB }),
      ],
      capBytes: 30 * GB,
      minFreeBytes: 0,
      disk: null,
    });
    expect(f.cameras[0]).toMatchObject({
      days_kept: 7,
      retention_achievable: true,
      fair_share_bytes: 7 * GB,
    });
    expect(f.cameras[1]).toMatchObject({
      days_kept: 2.3,
      retention_achievable: false,
      limited_by: 'cap',
      fair_share_bytes: 23 * GB,
    });
  });

  it('is bound by the disk when free space above the floor is smaller than the cap', () => {
    const f = forecast({
      cameras: [cam({ cameraId: 'a', writeRateBytesPerDay: 10 * GB, recordingsBytes: 5 * GB })],
      capBytes: 1000 * GB,
      minFreeBytes: 5 * GB,
      disk: { totalBytes: 100 * GB, freeBytes: 20 * GB },
    });
    expect(f.capacity_bytes).toBe(20 * GB); // 5 used + 20 free − 5 floor
    expect(f.bound_by).toBe('disk');
    expect(f.cameras[0]).toMatchObject({ days_kept: 2, limited_by: 'disk', retention_achievable: false });
  });

  it('names the quota when it, not the cap, shortens retention', () => {
    const f = forecast({
      cameras: [cam({ cameraId: 'a', writeRateBytesPerDay: 2 * GB, quotaBytes: 4 * GB })],
      capBytes: 0,
      minFreeBytes: 0,
      disk: null,
    });
    expect(f.capacity_bytes).toBeNull();
    expect(f.store_days).toBeNull();
    expect(f.cameras[0]).toMatchObject({ days_kept: 2, limited_by: 'quota', retention_achievable: false });
  });

  it('takes evidence-locked bytes out of the capacity and reports no_data without writes', () => {
    const f = forecast({
      cameras: [
        cam({ cameraId: 'a', writeRateBytesPerDay: GB, protectedBytes: 8 * GB, recordingsBytes: 8 * GB }),
        cam({ cameraId: 'idle' }),
      ],
      capBytes: 10 * GB,
      minFreeBytes: 0,
      disk: null,
    });
    expect(f.cameras[0]).toMatchObject({ fair_share_bytes: 2 * GB, days_kept: 2 });
    expect(f.cameras[1]).toMatchObject({
      days_kept: null,
      retention_achievable: null,
      limited_by: 'no_data',
    });
  });
});

describe('keptWriteRate: the forecast counts what a camera keeps, not what it records', () => {
  it.each([
    // mode, recorded/day, kept by events/day, rate the forecast uses
    ['continuous', 10 * GB, 0, 10 * GB],
    ['scheduled', 4 * GB, 0, 4 * GB],
    ['event', 10 * GB, GB, GB],
    ['scheduled_event', 4 * GB, 0.5 * GB, 0.5 * GB],
    ['event', 10 * GB, 0, 0], // nothing triggered: nothing kept
    ['continuous', 10 * GB, 3 * GB, 10 * GB], // kept_by events do not matter for a continuous camera
  ] as const)(
    '%s recording %d B/day, keeping %d B/day by events → %d B/day',
    (mode, recorded, kept, rate) => {
      expect(keptWriteRate(mode, recorded, kept)).toBe(rate);
    },
  );

  it('an event camera keeps its retention on a cap its recorded rate would overrun', () => {
    // Both record 10 GB/day; the event camera keeps 1 GB/day. A 30 GB cap, 7 days each.
    const cams = [
      { cameraId: 'cont', mode: 'continuous' as const },
      { cameraId: 'evt', mode: 'event' as const },
    ].map((c) => cam({ cameraId: c.cameraId, writeRateBytesPerDay: keptWriteRate(c.mode, 10 * GB, GB) }));
    const f = forecast({ cameras: cams, capBytes: 30 * GB, minFreeBytes: 0, disk: null });
    expect(f.write_rate_bytes_per_day).toBe(11 * GB);
    expect(f.cameras[1]).toMatchObject({
      write_rate_bytes_per_day: GB,
      days_kept: 7,
      retention_achievable: true,
      fair_share_bytes: 7 * GB,
    });
    expect(f.cameras[0]).toMatchObject({ days_kept: 2.3, retention_achievable: false, limited_by: 'cap' });
  });

  it('sets scheduled snapshots aside from the capacity like locked footage', () => {
    const f = forecast({
      cameras: [cam({ cameraId: 'a', writeRateBytesPerDay: GB, recordingsBytes: GB, snapshotBytes: 4 * GB })],
      capBytes: 10 * GB,
      minFreeBytes: 0,
      disk: null,
    });
    expect(f.cameras[0]).toMatchObject({ snapshots_bytes: 4 * GB, fair_share_bytes: 6 * GB, days_kept: 6 });
  });
});

describe('pickClipsForFloor', () => {
  const clip = (id: string, sizeBytes: number, createdAt: string) => ({ id, sizeBytes, createdAt });
  const clips = [
    clip('c3', 300, '2026-01-03T00:00:00.000Z'),
    clip('c1', 100, '2026-01-01T00:00:00.000Z'),
    clip('c2', 200, '2026-01-02T00:00:00.000Z'),
  ];
  it.each([
    ['no deficit', 0, []],
    ['a negative deficit', -5, []],
    ['the oldest covers it', 50, ['c1']],
    ['exactly the oldest', 100, ['c1']],
    ['one byte more takes the next', 101, ['c1', 'c2']],
    ['the oldest two', 300, ['c1', 'c2']],
    ['all of them when they cannot cover it', 10_000, ['c1', 'c2', 'c3']],
  ] as Array<[string, number, string[]]>)('%s', (_n, deficit, ids) => {
    expect(pickClipsForFloor(clips, deficit)).toEqual(ids);
  });

  it('same age: by id, so the choice is stable', () => {
    const t0 = '2026-01-01T00:00:00.000Z';
    expect(pickClipsForFloor([clip('b', 10, t0), clip('a', 10, t0)], 5)).toEqual(['a']);
  });

  it('nothing to pick from', () => {
    expect(pickClipsForFloor([], 100)).toEqual([]);
  });
});
