/** Zone drawing: pure geometry between the picture on screen and the API's normalized points. */

export type Point = [number, number];
export type ZoneKind = 'region' | 'presence' | 'line';

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** A click at (x, y) in a box → [0..1, 0..1], top-left origin, 4 decimals. */
export function normalize(
  x: number,
  y: number,
  box: { left: number; top: number; width: number; height: number },
): Point {
  if (box.width <= 0 || box.height <= 0) return [0, 0];
  return [round4(clamp01((x - box.left) / box.width)), round4(clamp01((y - box.top) / box.height))];
}

/** Adds a point: a line keeps at most two (a third click starts a new line). */
export function addPoint(points: readonly Point[], p: Point, kind: ZoneKind): Point[] {
  if (kind === 'line' && points.length >= 2) return [p];
  return [...points, p];
}

/** Why the points cannot be saved as that kind (null when they can): the API's own rule. */
export function shapeProblem(points: readonly Point[], kind: ZoneKind): string | null {
  if (kind === 'line') return points.length === 2 ? null : 'a line needs exactly 2 points';
  if (points.length < 3) return 'a polygon needs at least 3 points';
  if (points.length > 512) return 'a polygon has at most 512 points';
  return null;
}

/** "x,y x,y …" as typed (the keyboard way to enter points); throws with a readable message. */
export function parsePoints(text: string): Point[] {
  const parts = text
    .trim()
    .split(/[\s;]+/)
    .filter(Boolean);
  return parts.map((part) => {
    const m = /^(-?\d*\.?\d+),(-?\d*\.?\d+)$/.exec(part);
    if (!m) throw new Error(`"${part}" is not a point: write x,y with numbers from 0 to 1`);
    const p: Point = [Number(m[1]), Number(m[2])];
    if (p.some((v) => v < 0 || v > 1))
      throw new Error(`"${part}" is outside the picture: x and y go from 0 to 1`);
    return p;
  });
}

export function formatPoints(points: readonly Point[]): string {
  return points.map(([x, y]) => `${x},${y}`).join(' ');
}

/** The SVG `points` attribute in a 0..1000 viewBox. */
export function svgPoints(points: readonly Point[]): string {
  return points.map(([x, y]) => `${round4(x * 1000)},${round4(y * 1000)}`).join(' ');
}
