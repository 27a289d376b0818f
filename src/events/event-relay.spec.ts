import { LocalWrites, notifiedSeq, reconnectDelayMs } from './event-relay';

describe('reconnectDelayMs', () => {
  it.each([
    [0, 250],
    [1, 500],
    [2, 1000],
    [5, 8000],
    [6, 10_000],
    [60, 10_000],
    [-1, 250],
  ])('attempt %d waits %d ms', (attempt, ms) => {
    expect(reconnectDelayMs(attempt)).toBe(ms);
  });
});

describe('notifiedSeq', () => {
  it.each([
    ['1', 1],
    ['4711', 4711],
    ['9007199254740991', 9007199254740991],
    ['0', null],
    ['-3', null],
    ['12a', null],
    [' 12', null],
    ['', null],
    [undefined, null],
    ['99999999999999999', null],
  ])('%p → %p', (payload, seq) => {
    expect(notifiedSeq(payload)).toBe(seq);
  });
});

describe('LocalWrites', () => {
  it("knows this kernel's writes by id from before the insert, by seq after; prunes what the cursor passed", () => {
    const w = new LocalWrites();
    w.writing('a');
    expect(w.hasId('a')).toBe(true);
    expect(w.hasSeq(5)).toBe(false);
    w.wrote('a', 5);
    w.writing('b');
    w.wrote('b', 9);
    w.writing('c'); // in flight
    w.writing('d');
    w.dropped('d'); // its insert failed
    w.wrote('d', 11); // never known once dropped
    expect([w.hasSeq(5), w.hasSeq(9), w.hasSeq(11), w.hasId('d')]).toEqual([true, true, false, false]);
    expect([w.size, w.maxSeq]).toEqual([3, 9]);
    w.prune(5);
    expect([w.hasId('a'), w.hasSeq(5), w.hasId('b'), w.hasId('c'), w.size]).toEqual([
      false,
      false,
      true,
      true,
      2,
    ]);
    w.prune(100);
    expect([w.hasId('b'), w.hasId('c'), w.size]).toEqual([false, true, 1]);
  });
});
