import fc from 'fast-check';
import {
  clampToFrame,
  cross,
  FRAME_EDGE,
  distance,
  groundPoint,
  isValidBbox,
  pointInPolygon,
  segmentsProperlyIntersect,
  type Point,
} from './zone-geometry';

const SQUARE: Point[] = [
  [0.2, 0.2],
  [0.8, 0.2],
  [0.8, 0.8],
  [0.2, 0.8],
];
/** A "U" (concave): the notch 0.4..0.6 × 0.2..0.7 is outside. */
const U_SHAPE: Point[] = [
  [0.2, 0.2],
  [0.4, 0.2],
  [0.4, 0.7],
  [0.6, 0.7],
  [0.6, 0.2],
  [0.8, 0.2],
  [0.8, 0.9],
  [0.2, 0.9],
];

describe('groundPoint', () => {
  it('is the bottom-centre of [x, y, w, h]', () => {
    expect(groundPoint([0.2, 0.1, 0.4, 0.6])).toEqual([0.4, 0.7]);
    expect(groundPoint([0, 0, 1, 1])).toEqual([0.5, 1]);
  });

  it('ignores entries after the fourth', () => {
    expect(groundPoint([0.2, 0.1, 0.4, 0.6, 99, 'x'])).toEqual([0.4, 0.7]);
  });

  it('accepts zero and negative sizes as given (no clamping)', () => {
    expect(groundPoint([0.5, 0.5, 0, 0])).toEqual([0.5, 0.5]);
    expect(groundPoint([0.5, 0.5, -0.2, -0.1])).toEqual([0.4, 0.4]);
  });

  it.each<[string, unknown]>([
    ['three numbers', [0.1, 0.2, 0.3]],
    ['an empty array', []],
    ['NaN', [0.1, NaN, 0.3, 0.4]],
    ['Infinity', [0.1, 0.2, Infinity, 0.4]],
    ['-Infinity', [-Infinity, 0.2, 0.3, 0.4]],
    ['a numeric string', ['0.1', 0.2, 0.3, 0.4]],
    ['null inside', [0.1, null, 0.3, 0.4]],
    ['a hole', [0.1, , 0.3, 0.4]], // eslint-disable-line no-sparse-arrays
    ['null', null],
    ['undefined', undefined],
    ['an object', { x: 0.1, y: 0.2, w: 0.3, h: 0.4 }],
    ['a typed array', new Float64Array([0.1, 0.2, 0.3, 0.4])],
  ])('is null for %s', (_name, bbox) => {
    expect(groundPoint(bbox)).toBeNull();
    expect(isValidBbox(bbox)).toBe(false);
  });
});

describe('pointInPolygon', () => {
  it.each<[Point, boolean]>([
    [[0.5, 0.5], true],
    [[0.21, 0.79], true],
    [[0.1, 0.5], false],
    [[0.9, 0.5], false],
    [[0.5, 0.1], false],
    [[0.5, 0.9], false],
    [[0, 0], false],
  ])('square: %j → %s', (pt, inside) => {
    expect(pointInPolygon(pt, SQUARE)).toBe(inside);
  });

  it('does not depend on the winding direction', () => {
    const reversed = [...SQUARE].reverse();
    for (const pt of [
      [0.5, 0.5],
      [0.1, 0.5],
      [0.79, 0.21],
    ] as Point[]) {
      expect(pointInPolygon(pt, reversed)).toBe(pointInPolygon(pt, SQUARE));
    }
  });

  it.each<[Point, boolean]>([
    [[0.3, 0.5], true], // left arm
    [[0.7, 0.5], true], // right arm
    [[0.5, 0.5], false], // in the notch
    [[0.5, 0.8], true], // the base below the notch
    [[0.5, 0.95], false],
  ])('concave U: %j → %s', (pt, inside) => {
    expect(pointInPolygon(pt, U_SHAPE)).toBe(inside);
  });

  it('uses the even–odd rule for a self-intersecting polygon (bow tie)', () => {
    const bowTie: Point[] = [
      [0, 0],
      [1, 1],
      [1, 0],
      [0, 1],
    ];
    expect(pointInPolygon([0.9, 0.5], bowTie)).toBe(true);
    expect(pointInPolygon([0.1, 0.5], bowTie)).toBe(true);
    expect(pointInPolygon([0.5, 0.1], bowTie)).toBe(false);
  });

  it('is never inside a polygon of fewer than 3 points', () => {
    expect(pointInPolygon([0.5, 0.5], [])).toBe(false);
    expect(pointInPolygon([0.5, 0.5], [[0.5, 0.5]])).toBe(false);
    expect(
      pointInPolygon(
        [0.5, 0.5],
        [
          [0, 0.5],
          [1, 0.5],
        ],
      ),
    ).toBe(false);
  });

  it('is never inside a zero-area polygon (all points on a line)', () => {
    const flat: Point[] = [
      [0.1, 0.5],
      [0.5, 0.5],
      [0.9, 0.5],
    ];
    expect(pointInPolygon([0.3, 0.5], flat)).toBe(false);
    expect(pointInPolygon([0.3, 0.4], flat)).toBe(false);
  });

  it('treats boundary points half-open: min-x/min-y edges inside, max-x/max-y edges outside', () => {
    expect(pointInPolygon([0.2, 0.5], SQUARE)).toBe(true); // on the left edge (x = minX)
    expect(pointInPolygon([0.8, 0.5], SQUARE)).toBe(false); // on the right edge
    expect(pointInPolygon([0.5, 0.2], SQUARE)).toBe(true); // on the edge at y = minY
    expect(pointInPolygon([0.5, 0.8], SQUARE)).toBe(false); // on the edge at y = maxY
    expect(pointInPolygon([0.8, 0.8], SQUARE)).toBe(false); // a vertex
  });

  it('is false for a non-finite point', () => {
    expect(pointInPolygon([NaN, 0.5], SQUARE)).toBe(false);
    expect(pointInPolygon([0.5, NaN], SQUARE)).toBe(false);
    expect(pointInPolygon([Infinity, 0.5], SQUARE)).toBe(false);
  });

  it('agrees with the exact answer for an axis-aligned rectangle away from its edges', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (x, y) => {
          fc.pre(Math.abs(x - 0.2) > 1e-9 && Math.abs(x - 0.8) > 1e-9);
          fc.pre(Math.abs(y - 0.2) > 1e-9 && Math.abs(y - 0.8) > 1e-9);
          const expected = x > 0.2 && x < 0.8 && y > 0.2 && y < 0.8;
          expect(pointInPolygon([x, y], SQUARE)).toBe(expected);
        },
      ),
    );
  });
});

describe('cross', () => {
  const a: Point = [0.5, 0];
  const b: Point = [0.5, 1];
  it('has opposite signs on the two sides of a→b and is zero on the line', () => {
    expect(cross(a, b, [0.3, 0.5])).toBeCloseTo(0.2);
    expect(cross(a, b, [0.7, 0.5])).toBeCloseTo(-0.2);
    expect(cross(a, b, [0.5, 0.5])).toBe(0);
    expect(cross(a, b, [0.5, 7])).toBe(0); // on the extension
  });

  it('flips sign when the line is reversed', () => {
    expect(Math.sign(cross(b, a, [0.3, 0.5]))).toBe(-1);
  });
});

describe('segmentsProperlyIntersect', () => {
  const a: Point = [0.5, 0];
  const b: Point = [0.5, 1];
  it.each<[string, boolean, Point, Point]>([
    ['a crossing left to right', true, [0.3, 0.5], [0.7, 0.5]],
    ['a crossing right to left', true, [0.7, 0.5], [0.3, 0.5]],
    ['a diagonal crossing', true, [0.2, 0.1], [0.9, 0.8]],
    ['stopping short', false, [0.3, 0.2], [0.4, 0.8]],
    ['staying on one side', false, [0.6, 0.2], [0.8, 0.8]],
    ['crossing the extension beyond B', false, [0.3, 1.5], [0.7, 1.5]],
    ['crossing the extension before A', false, [0.3, -0.5], [0.7, -0.5]],
    ['ending exactly on the line (touching)', false, [0.3, 0.5], [0.5, 0.5]],
    ['starting exactly on the line (touching)', false, [0.5, 0.5], [0.7, 0.5]],
    ['passing exactly through endpoint A', false, [0.25, -0.25], [0.75, 0.25]],
    ['colinear overlap', false, [0.5, 0.2], [0.5, 0.8]],
    ['colinear, beyond the segment', false, [0.5, 1.2], [0.5, 1.8]],
    ['a zero-length movement', false, [0.3, 0.5], [0.3, 0.5]],
  ])('%s → %s', (_name, expected, p1, p2) => {
    expect(segmentsProperlyIntersect(p1, p2, a, b)).toBe(expected);
  });

  it('is symmetric in the two segments and in their directions (exact grid coordinates)', () => {
    // Multiples of 1/16 keep every product exact, so reversed arithmetic cannot flip a sign.
    const coord = fc.integer({ min: 0, max: 16 }).map((i) => i / 16);
    const point = fc.tuple(coord, coord);
    fc.assert(
      fc.property(point, point, point, point, (p1, p2, q1, q2) => {
        const r = segmentsProperlyIntersect(p1, p2, q1, q2);
        expect(segmentsProperlyIntersect(q1, q2, p1, p2)).toBe(r);
        expect(segmentsProperlyIntersect(p2, p1, q1, q2)).toBe(r);
        expect(segmentsProperlyIntersect(p1, p2, q2, q1)).toBe(r);
      }),
    );
  });
});

describe('distance', () => {
  it('is Euclidean', () => {
    expect(distance([0, 0], [0.3, 0.4])).toBeCloseTo(0.5);
    expect(distance([0.3, 0.4], [0, 0])).toBeCloseTo(0.5);
    expect(distance([0.1, 0.1], [0.1, 0.1])).toBe(0);
  });
});

describe('the frame edge', () => {
  const WHOLE_FRAME: Array<[number, number]> = [
    [0, 0],
    [1, 0],
    [1, 1],
    [0, 1],
  ];

  it('a box standing on the bottom (or right) edge of the image is inside a whole-frame zone', () => {
    const judged = (b: number[]) => groundPoint(b)!.map(clampToFrame) as [number, number];
    const p = groundPoint([0.4, 0.7, 0.2, 0.3])!; // y + h = 1: the object touches the bottom of the frame
    expect(pointInPolygon(p, WHOLE_FRAME)).toBe(false); // half-open edges alone would miss it
    expect(pointInPolygon(judged([0.4, 0.7, 0.2, 0.3]), WHOLE_FRAME)).toBe(true);
    expect(pointInPolygon(judged([0.8, 0.5, 0.4, 0.5]), WHOLE_FRAME)).toBe(true); // spills past both edges
    expect(clampToFrame(0.5)).toBe(0.5);
    expect(clampToFrame(1.2)).toBe(FRAME_EDGE);
  });
});
