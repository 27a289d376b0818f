/**
 * Zone geometry: pure functions over normalized image coordinates (0..1, origin top-left, y down),
 * the space both detection bboxes and zone polygons live in.
 */

/** A point `[x, y]`. */
export type Point = readonly [number, number];

/**
 * Whether `bbox` is a usable `[x, y, w, h]`: an array whose first four entries are finite numbers
 * (extra entries are ignored). Anything else — short arrays, strings, NaN, ±Infinity — is not.
 */
export function isValidBbox(bbox: unknown): bbox is readonly number[] {
  if (!Array.isArray(bbox) || bbox.length < 4) return false;
  for (let i = 0; i < 4; i++) {
    const v: unknown = bbox[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  }
  return true;
}

/** Largest coordinate a judged point takes: just inside the frame's right and bottom edges. */
export const FRAME_EDGE = 1 - 1e-9;

/** A ground coordinate kept just inside the frame, for region membership: a box touching the bottom
 * (or right) edge of the image stands ON the frame, and a zone drawn to that edge must contain it
 * (polygon edges are half-open, so an exact 1 would fall outside a whole-frame zone). Line
 * crossings use the unclamped point. */
export function clampToFrame(v: number): number {
  return v > FRAME_EDGE ? FRAME_EDGE : v;
}

/**
 * The ground-contact point of a normalized `[x, y, w, h]` bbox: its bottom-centre
 * `[x + w/2, y + h]`. Null unless the bbox has at least four finite numbers.
 */
export function groundPoint(bbox: unknown): [number, number] | null {
  if (!isValidBbox(bbox)) return null;
  return [bbox[0] + bbox[2] / 2, bbox[1] + bbox[3]];
}

/**
 * Ray casting (even–odd rule). Polygons with fewer than 3 points are never inside. A point on a
 * boundary follows the test's half-open convention — for an axis-aligned rectangle, the edges at
 * minimum x and minimum y are inside, those at maximum x and maximum y outside — so it is
 * deterministic, never flickering between calls.
 */
export function pointInPolygon(pt: Point, polygon: readonly Point[]): boolean {
  const n = polygon.length;
  if (n < 3) return false;
  const x = pt[0];
  const y = pt[1];
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = polygon[i][0];
    const yi = polygon[i][1];
    const xj = polygon[j][0];
    const yj = polygon[j][1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * The z-component of `(b - a) × (p - a)`: positive when `p` is on the left of the directed line
 * a→b in a y-up frame (on the right as drawn in image coordinates, where y points down), negative
 * on the other side, zero when colinear.
 */
export function cross(a: Point, b: Point, p: Point): number {
  return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
}

/**
 * Whether segment p1→p2 properly intersects segment a→b: each segment's endpoints lie strictly on
 * opposite sides of the other. Touching (an endpoint on the other segment) and colinear overlap
 * do not count, so a point jittering exactly on a line never fires.
 */
export function segmentsProperlyIntersect(p1: Point, p2: Point, a: Point, b: Point): boolean {
  const d1 = cross(a, b, p1);
  const d2 = cross(a, b, p2);
  const d3 = cross(p1, p2, a);
  const d4 = cross(p1, p2, b);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

/** Euclidean distance between two points. */
export function distance(a: Point, b: Point): number {
  const dx = a[0] - b[0];
  const dy = a[1] - b[1];
  return Math.sqrt(dx * dx + dy * dy);
}
