import { DEFAULT_MOTION, detectMotion, dilate, MotionDetector, toGrid } from './motion';

/** An RGB frame of `bg` grey with filled rectangles `[x, y, w, h, grey]` (pixels). */
function frame(width: number, height: number, rects: number[][] = [], bg = 20): Uint8Array {
  const px = new Uint8Array(width * height * 3).fill(bg);
  for (const [rx, ry, rw, rh, v] of rects) {
    for (let y = ry; y < ry + rh; y++) {
      for (let x = rx; x < rx + rw; x++) px.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return px;
}

const grid = (px: Uint8Array, w = 320, h = 240) => toGrid(px, w, h, 3, DEFAULT_MOTION.gridWidth);

describe('toGrid', () => {
  it('averages luma over cells sized to fit the grid width', () => {
    // 4x2 RGB, left half red, right half white, into a grid 2 wide: cells of 2x2 pixels.
    const px = new Uint8Array([255, 0, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]);
    const g = toGrid(new Uint8Array([...px, ...px]), 4, 2, 3, 2);
    expect(g).toMatchObject({ width: 2, height: 1, cell: 2, sourceWidth: 4, sourceHeight: 2 });
    expect([...g.data]).toEqual([76, 255]); // BT.601 luma of red is 0.299 × 255
  });

  it('reads RGBA too and drops the partial last cell', () => {
    const px = new Uint8Array(5 * 3 * 4).fill(100);
    const g = toGrid(px, 5, 3, 4, 2);
    expect(g).toMatchObject({ width: 1, height: 1, cell: 3 });
    expect(g.data[0]).toBe(100);
  });

  it('refuses a buffer too small for its size', () => {
    expect(() => toGrid(new Uint8Array(10), 4, 4, 3, 2)).toThrow(RangeError);
  });
});

describe('detectMotion', () => {
  it('finds a square that appeared, as a normalized top-left bbox', () => {
    const boxes = detectMotion(grid(frame(320, 240)), grid(frame(320, 240, [[80, 60, 40, 30, 220]])));
    expect(boxes).toHaveLength(1);
    expect(boxes[0].bbox).toEqual([0.25, 0.25, 0.125, 0.125]);
    expect(boxes[0].area).toBeCloseTo((40 * 30) / (320 * 240), 4);
    expect(boxes[0].confidence).toBe(1); // a change of 200 against a threshold of 25
  });

  it('boxes each of two separate movers, largest first', () => {
    const prev = grid(frame(320, 240));
    const cur = grid(
      frame(320, 240, [
        [10, 10, 20, 20, 200],
        [200, 120, 60, 60, 200],
      ]),
    );
    const boxes = detectMotion(prev, cur);
    expect(boxes.map((b) => b.bbox)).toEqual([
      [0.625, 0.5, 0.1875, 0.25],
      [0.0313, 0.0417, 0.0625, 0.0833],
    ]);
  });

  it('a box that reaches the frame edge never ends past it once rounded', () => {
    // At sizes like 160 × 120 an edge at 1/160 (0.00625) rounds up while its width rounds up too.
    let checked = 0;
    for (const [w, h] of [
      [160, 120],
      [320, 240],
      [176, 144],
      [250, 190],
    ])
      for (let at = 1; at < w / 2; at += 3) {
        const top = Math.min(h - 4, at);
        const boxes = detectMotion(
          grid(frame(w, h), w, h),
          grid(frame(w, h, [[at, top, w - at, h - top, 230]]), w, h),
        );
        for (const { bbox } of boxes) {
          expect(bbox[0] + bbox[2]).toBeLessThanOrEqual(1);
          expect(bbox[1] + bbox[3]).toBeLessThanOrEqual(1);
          checked++;
        }
      }
    expect(checked).toBeGreaterThan(50);
  });

  it('a uniform object moving less than its width shows its trailing and leading edges', () => {
    const boxes = detectMotion(
      grid(frame(320, 240, [[100, 100, 40, 40, 230]])),
      grid(frame(320, 240, [[120, 100, 40, 40, 230]])),
    );
    // Where the two positions overlap nothing changed: the strip it left and the strip it entered.
    expect(boxes.map((b) => b.bbox).sort((a, b) => a[0] - b[0])).toEqual([
      [0.3125, 0.4167, 0.0625, 0.1667],
      [0.4375, 0.4167, 0.0625, 0.1667],
    ]);
  });

  it('ignores changes under the threshold, regions under min area, and identical frames', () => {
    const base = frame(320, 240);
    expect(detectMotion(grid(base), grid(frame(320, 240, [[0, 0, 320, 240, 40]])))).toEqual([]); // +20 < 25
    expect(detectMotion(grid(base), grid(frame(320, 240, [[50, 50, 6, 6, 255]])))).toEqual([]); // 0.05 % of the frame
    expect(detectMotion(grid(base), grid(base))).toEqual([]);
    // Lower the bar and the small one counts.
    const small = detectMotion(grid(base), grid(frame(320, 240, [[50, 50, 6, 6, 255]])), {
      ...DEFAULT_MOTION,
      minArea: 0.0001,
    });
    expect(small).toHaveLength(1);
  });

  it('confidence grows with the strength of the change, from just over 0.5 at the threshold', () => {
    const base = frame(320, 240);
    const [weak] = detectMotion(grid(base), grid(frame(320, 240, [[80, 80, 40, 40, 50]]))); // +30
    const [strong] = detectMotion(grid(base), grid(frame(320, 240, [[80, 80, 40, 40, 90]]))); // +70
    expect(weak.confidence).toBeGreaterThan(0.5);
    expect(weak.confidence).toBeLessThan(strong.confidence);
    expect(strong.confidence).toBe(1);
  });

  it('dilation joins fragments a cell apart into one box; without it they stay apart', () => {
    const prev = grid(frame(320, 240));
    // Two 20x20 squares 2 px (one grid cell) apart.
    const cur = grid(
      frame(320, 240, [
        [100, 100, 20, 20, 200],
        [122, 100, 20, 20, 200],
      ]),
    );
    expect(detectMotion(prev, cur)).toHaveLength(1);
    expect(detectMotion(prev, cur, { ...DEFAULT_MOTION, dilate: 0 })).toHaveLength(2);
  });
});

describe('dilate', () => {
  it('grows a point into a square, clipped at the edges', () => {
    const m = new Uint8Array(16);
    m[0] = 1;
    expect([...dilate(m, 4, 4, 1)]).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('MotionDetector', () => {
  it('primes on the first frame, then follows a moving square', () => {
    const d = new MotionDetector();
    expect(d.next(frame(320, 240, [[0, 100, 30, 30, 250]]), 320, 240, 3)).toEqual([]);
    const seen = [];
    for (let x = 60; x <= 240; x += 60) {
      const boxes = d.next(frame(320, 240, [[x, 100, 30, 30, 250]]), 320, 240, 3);
      // A jump wider than the square: the old spot and the new one.
      expect(boxes).toHaveLength(2);
      seen.push(boxes.map((b) => b.bbox[0]).sort((a, b) => a - b));
    }
    expect(seen[0]).toEqual([0, 0.1875]);
    expect(seen[3]).toEqual([0.5625, 0.75]);
  });

  it('starts over when the frame size changes', () => {
    const d = new MotionDetector();
    d.next(frame(320, 240), 320, 240, 3);
    expect(d.next(frame(160, 120, [[10, 10, 50, 50, 250]]), 160, 120, 3)).toEqual([]);
    expect(d.next(frame(160, 120, [[90, 10, 50, 50, 250]]), 160, 120, 3)).toHaveLength(2);
  });
});
