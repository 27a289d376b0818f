import { CentroidTracker } from './tracker';

/** A 0.1 × 0.1 box centred at (cx, cy). */
const at = (cx: number, cy: number) => ({ bbox: [cx - 0.05, cy - 0.05, 0.1, 0.1] });

describe('CentroidTracker', () => {
  it('keeps one id for an object moving a little each frame', () => {
    const t = new CentroidTracker({ maxDistance: 0.2, maxMissed: 2 });
    const ids = [0.1, 0.2, 0.3, 0.45, 0.6].map((x) => t.update([at(x, 0.5)])[0]);
    expect(ids).toEqual([1, 1, 1, 1, 1]);
    expect(t.active()).toEqual([
      { id: 1, cx: expect.closeTo(0.6), cy: expect.closeTo(0.5), missed: 0, hits: 5 },
    ]);
  });

  it('a jump beyond max distance is a new object, and the old track ages out', () => {
    const t = new CentroidTracker({ maxDistance: 0.2, maxMissed: 1 });
    expect(t.update([at(0.1, 0.1)])).toEqual([1]);
    expect(t.update([at(0.9, 0.9)])).toEqual([2]); // track 1 missed once
    expect(t.active().map((x) => [x.id, x.missed])).toEqual([
      [1, 1],
      [2, 0],
    ]);
    expect(t.update([at(0.9, 0.85)])).toEqual([2]); // track 1 missed twice: gone
    expect(t.active().map((x) => x.id)).toEqual([2]);
  });

  it('two objects keep their own ids, whatever the order of the boxes', () => {
    const t = new CentroidTracker({ maxDistance: 0.35, maxMissed: 2 });
    expect(t.update([at(0.2, 0.5), at(0.8, 0.5)])).toEqual([1, 2]);
    expect(t.update([at(0.75, 0.5), at(0.25, 0.5)])).toEqual([2, 1]);
    // The first box is nearer track 1 than track 2, but the second box is nearer still to track 1:
    // pairs are taken nearest first, so track 1 takes the second box and track 2 the first.
    expect(t.update([at(0.45, 0.5), at(0.3, 0.5)])).toEqual([2, 1]);
  });

  it('resumes a track after up to maxMissed empty frames; one more and it is gone for good', () => {
    const t = new CentroidTracker({ maxDistance: 0.2, maxMissed: 2 });
    t.update([at(0.5, 0.5)]);
    t.update([]);
    t.update([]);
    expect(t.update([at(0.52, 0.5)])).toEqual([1]); // two misses: resumed
    t.update([]);
    t.update([]);
    t.update([]); // three misses: expired
    expect(t.active()).toEqual([]);
    expect(t.update([at(0.52, 0.5)])).toEqual([2]); // ids are never reused
  });

  it('each track takes at most one box: a split gives the extra box a new id', () => {
    const t = new CentroidTracker({ maxDistance: 0.2, maxMissed: 2 });
    t.update([at(0.5, 0.5)]);
    expect(t.update([at(0.55, 0.5), at(0.45, 0.52)])).toEqual([1, 2]);
  });
});
