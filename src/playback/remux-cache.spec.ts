import { pickEvictions } from './remux-cache';

const e = (segmentId: string, bytes: number, lastUsedMs: number, pins = 0) => ({
  segmentId,
  bytes,
  lastUsedMs,
  pins,
});

describe('pickEvictions', () => {
  it.each([
    ['room enough: nothing goes', [e('a', 10, 1), e('b', 10, 2)], 100, 50, [], true],
    [
      'least recently used first, only as many as needed',
      [e('b', 40, 2), e('a', 40, 1), e('c', 40, 3)],
      100,
      30,
      ['a', 'b'],
      true,
    ],
    [
      'a pinned copy is never evicted',
      [e('a', 40, 1, 1), e('b', 40, 2), e('c', 10, 3)],
      100,
      30,
      ['b'],
      true,
    ],
    [
      'cannot fit when the pinned copies fill the cap',
      [e('a', 80, 1, 2), e('b', 10, 2)],
      100,
      30,
      ['b'],
      false,
    ],
    [
      'over the cap with nothing incoming (a lowered cap at boot)',
      [e('a', 60, 5), e('b', 60, 1)],
      100,
      0,
      ['b'],
      true,
    ],
    ['an incoming copy larger than the cap never fits', [], 100, 101, [], false],
  ])('%s', (_name, entries, cap, incoming, evict, fits) => {
    expect(pickEvictions(entries, cap, incoming)).toEqual({ evict, fits });
  });
});
