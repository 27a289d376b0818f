import {
  addPoint,
  formatPoints,
  normalize,
  parsePoints,
  shapeProblem,
  svgPoints,
  type Point,
} from './geometry';

describe('zone drawing geometry', () => {
  const box = { left: 100, top: 50, width: 400, height: 200 };
  it.each([
    ['top-left corner', 100, 50, [0, 0]],
    ['bottom-right corner', 500, 250, [1, 1]],
    ['middle', 300, 150, [0.5, 0.5]],
    ['a third across, rounded to 4 decimals', 100 + 400 / 3, 50 + 200 / 3, [0.3333, 0.3333]],
    ['outside left/above is clamped', 0, 0, [0, 0]],
    ['outside right/below is clamped', 900, 900, [1, 1]],
  ])('normalize: %s', (_name, x, y, want) => {
    expect(normalize(x, y, box)).toEqual(want);
  });

  it('normalize: an empty box gives the origin instead of NaN', () => {
    expect(normalize(10, 10, { left: 0, top: 0, width: 0, height: 0 })).toEqual([0, 0]);
  });

  it.each<[string, Point[], 'line' | 'region', Point[]]>([
    [
      'region appends',
      [
        [0, 0],
        [1, 0],
      ],
      'region',
      [
        [0, 0],
        [1, 0],
        [0.5, 0.5],
      ],
    ],
    [
      'line second point appends',
      [[0, 0]],
      'line',
      [
        [0, 0],
        [0.5, 0.5],
      ],
    ],
    [
      'line third click starts over',
      [
        [0, 0],
        [1, 1],
      ],
      'line',
      [[0.5, 0.5]],
    ],
  ])('addPoint: %s', (_n, pts, kind, want) => {
    expect(addPoint(pts, [0.5, 0.5], kind)).toEqual(want);
  });

  it.each<[string, Point[], 'line' | 'region' | 'presence', string | null]>([
    [
      'line of 2',
      [
        [0, 0],
        [1, 1],
      ],
      'line',
      null,
    ],
    ['line of 1', [[0, 0]], 'line', 'a line needs exactly 2 points'],
    [
      'line of 3',
      [
        [0, 0],
        [1, 1],
        [0, 1],
      ],
      'line',
      'a line needs exactly 2 points',
    ],
    [
      'triangle',
      [
        [0, 0],
        [1, 1],
        [0, 1],
      ],
      'region',
      null,
    ],
    [
      'two-point region',
      [
        [0, 0],
        [1, 1],
      ],
      'presence',
      'a polygon needs at least 3 points',
    ],
  ])('shapeProblem: %s', (_n, pts, kind, want) => {
    expect(shapeProblem(pts, kind)).toBe(want);
  });

  it('parses typed points and formats them back', () => {
    expect(parsePoints(' 0.1,0.2  0.3,0.4;0.5,.6 ')).toEqual([
      [0.1, 0.2],
      [0.3, 0.4],
      [0.5, 0.6],
    ]);
    expect(
      formatPoints([
        [0.1, 0.2],
        [1, 0],
      ]),
    ).toBe('0.1,0.2 1,0');
    expect(parsePoints('')).toEqual([]);
  });

  it.each([
    ['0.1;0.2', /"0.1" is not a point/],
    ['a,b', /"a,b" is not a point/],
    ['1.5,0.2', /outside the picture/],
  ])('refuses %s with a readable message', (text, msg) => {
    expect(() => parsePoints(text)).toThrow(msg);
  });

  it('svg points are in a 0..1000 viewBox', () => {
    expect(
      svgPoints([
        [0, 0],
        [0.25, 1],
      ]),
    ).toBe('0,0 250,1000');
  });
});
