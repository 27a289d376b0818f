import { clipQuotaBreach, clipQuotaMessage, estimateClipBytes, formatBytes } from './clip-quota';

describe('estimateClipBytes', () => {
  const seg = (startMs: number, endMs: number, sizeBytes: number) => ({ startMs, endMs, sizeBytes });
  it.each([
    ['one whole segment', [seg(0, 10, 1000)], 0, 10, 1000],
    ['half of one segment', [seg(0, 10, 1000)], 5, 10, 500],
    ['the range inside one segment', [seg(0, 10, 1000)], 2, 4, 200],
    ['the tail of one and the head of the next', [seg(0, 10, 1000), seg(10, 20, 3000)], 5, 15, 500 + 1500],
    ['a range wider than the footage', [seg(10, 20, 1000)], 0, 100, 1000],
    ['a segment without duration counts whole', [seg(5, 5, 700)], 0, 10, 700],
    ['rounds up', [seg(0, 3, 10)], 0, 1, 4],
    ['no segments', [], 0, 10, 0],
  ])('%s', (_name, segs, from, to, bytes) => {
    expect(estimateClipBytes(segs, from, to)).toBe(bytes);
  });
});

describe('clipQuotaBreach', () => {
  const base = {
    requestedBytes: 100,
    usedTotalBytes: 0,
    usedByPrincipalBytes: 0,
    maxTotalBytes: 1000,
    maxPerPrincipalBytes: 500,
  };
  it.each([
    ['fits both', {}, null],
    ['fills the caller’s quota exactly', { usedByPrincipalBytes: 400 }, null],
    [
      'over the caller’s quota',
      { usedByPrincipalBytes: 401 },
      { scope: 'principal', usedBytes: 401, allowedBytes: 500 },
    ],
    ['over the total', { usedTotalBytes: 950 }, { scope: 'total', usedBytes: 950, allowedBytes: 1000 }],
    [
      'over both: the caller’s is named',
      { usedTotalBytes: 950, usedByPrincipalBytes: 450 },
      { scope: 'principal' },
    ],
    ['0 = no per-caller limit', { maxPerPrincipalBytes: 0, usedByPrincipalBytes: 10_000 }, null],
    ['0 = no total limit', { maxTotalBytes: 0, usedTotalBytes: 10_000 }, null],
    [
      'a clip alone larger than the quota',
      { requestedBytes: 600 },
      { scope: 'principal', requestedBytes: 600 },
    ],
  ] as Array<[string, Partial<typeof base>, Record<string, unknown> | null]>)('%s', (_n, patch, expected) => {
    const got = clipQuotaBreach({ ...base, ...patch });
    if (expected === null) expect(got).toBeNull();
    else expect(got).toMatchObject(expected);
  });
});

describe('clipQuotaMessage / formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [10 * 1024 ** 3, '10 GiB'],
  ])('%d → %s', (n, s) => expect(formatBytes(n)).toBe(s));

  it('says how much is used and allowed', () => {
    expect(
      clipQuotaMessage({
        scope: 'principal',
        usedBytes: 3 * 1024 ** 2,
        allowedBytes: 4 * 1024 ** 2,
        requestedBytes: 2 * 1024 ** 2,
      }),
    ).toBe(
      'clip quota exceeded: your clips use 3 MiB of 4 MiB allowed, and this clip needs about 2 MiB; delete clips or wait for them to expire',
    );
  });
});
