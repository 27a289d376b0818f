import { clampToFrame, isValidBbox } from './zone-geometry';

/**
 * The zone engine as pure logic: tracked detections of one camera in, zone events out. No I/O, no
 * framework: a NestJS service loads zones, feeds batches and persists what comes out.
 *
 * Semantics follow the reference kernel's zone engine (ground point = bbox bottom-centre, ray-cast
 * membership with a `confirmFrames` debounce, enter/exit/dwell, directional line crossings,
 * static-object suppression, timeout exits, occupancy), with one deliberate difference: state is
 * held per camera (camera → zone → track), so one camera's batch — and its timeout sweep — never
 * touches another camera's tracks. The reference keeps one global map and attributes timeout exits
 * to whichever camera's batch ran the sweep.
 *
 * Time is server time from the injected clock; worker timestamps are not inputs.
 */

export type ZoneKind = 'region' | 'presence' | 'line';
export type LineDirection = 'any' | 'ab' | 'ba';
export type ZoneEventType = 'enter' | 'exit' | 'dwell' | 'cross_ab' | 'cross_ba';

/**
 * A zone as the engine sees it (a service maps `zones` rows and their `config` onto this). Treat it
 * as immutable: the engine caches its compiled form by id and object identity (falling back to a
 * field-by-field comparison for a new object), so change a zone by passing a new object.
 */
export interface ZoneDef {
  id: string;
  cameraId: string;
  name: string;
  /** `region` and `presence` behave identically; `line` uses the first two points as A→B. */
  kind: ZoneKind;
  polygon: Array<[number, number]>;
  /** Non-empty = only detections whose label is one of these (exact match) are visible to the zone. */
  labels: string[];
  /** Detections below this confidence are invisible to the zone. */
  minConfidence: number;
  /** Consecutive observations of the other side needed to flip membership (clamped to 1..10). */
  confirmFrames: number;
  /** One `dwell` per visit once inside this long; 0 = no dwell events. */
  dwellSeconds: number;
  /** Line zones only: which crossings are emitted. */
  direction: LineDirection;
  staticSuppression: boolean;
  enabled: boolean;
  /** Per-zone override of the engine's static epsilon (config `static_epsilon`). */
  staticEpsilon?: number;
  /** Per-zone override of the engine's static-after time (config `static_after_seconds`). */
  staticAfterSeconds?: number;
}

/** One detection of a batch; detections without a track id or a valid bbox are ignored. */
export interface EngineDetection {
  trackId: string;
  label: string;
  confidence: number;
  /** Normalized `[x, y, w, h]`. */
  bbox: number[];
}

export interface ZoneEngineEvent {
  cameraId: string;
  zoneId: string;
  zoneName: string;
  type: ZoneEventType;
  trackId: string;
  /** The detection's label; '' for an exit synthesized on timeout. */
  label: string;
  /** Measured seconds inside, for `dwell`; null otherwise. */
  dwellSeconds: number | null;
  /** Server time (the engine's clock). */
  atMs: number;
}

/** A track became static in a zone: its zone events are suppressed until it moves (once per track). */
export interface StaticNotice {
  cameraId: string;
  zoneId: string;
  zoneName: string;
  trackId: string;
  label: string;
  atMs: number;
}

export interface ZoneOccupancy {
  zoneId: string;
  count: number;
}

export interface ZoneOutput {
  /** Ordered by zone (as passed), then track (first appearance in the batch), then timeout exits. */
  events: ZoneEngineEvent[];
  notices: StaticNotice[];
  /** Every enabled zone of the camera passed in, in order (line zones are always 0). */
  occupancy: ZoneOccupancy[];
}

export interface EngineClock {
  nowMs(): number;
}

export interface ZoneEngineOptions {
  /** A track state not seen for longer than this is dropped (default 120 000). */
  trackTimeoutMs?: number;
  /** Static-suppression displacement threshold, normalized units (default 0.02). */
  staticEpsilon?: number;
  /** How long a track must stay within epsilon of its first point to be suppressed (default 120 000). */
  staticAfterMs?: number;
}

/** A zone definition precomputed for the hot path. */
interface CompiledZone {
  def: ZoneDef;
  isLine: boolean;
  /** Polygon vertices as flat arrays (region/presence), with the bounding box for quick rejects. */
  xs: Float64Array;
  ys: Float64Array;
  minY: number;
  maxY: number;
  /** The x extent, widened by a rounding margin (see `insideCompiled`). */
  rejectMinX: number;
  rejectMaxX: number;
  /** Line A→B (line zones with ≥2 points). */
  hasLine: boolean;
  ax: number;
  ay: number;
  bx: number;
  by: number;
  labels: ReadonlySet<string> | null;
  minConfidence: number;
  confirmFrames: number;
  dwellMs: number;
  wantAb: boolean;
  wantBa: boolean;
  staticOn: boolean;
  staticEpsilon: number;
  staticAfterMs: number;
}

/** Membership and static-suppression state of one track in one zone. */
interface TrackState {
  trackId: string;
  inside: boolean;
  enteredAtMs: number;
  dwellEmitted: boolean;
  lastSeenMs: number;
  /**
   * Debounce: consecutive observations on the other side of `inside` (the only side a flip can go
   * to, so the side itself needs no field); reset by any observation on the current side.
   */
  flipCount: number;
  firstSeenMs: number;
  originX: number;
  originY: number;
  /**
   * Watermark of the displacement from the origin. Suppression needs it < epsilon and lifting it
   * needs it ≥ epsilon; being monotonic, it makes suppression (and its notice) once per state.
   */
  maxDisplacement: number;
  suppressed: boolean;
  /** Previous visible ground point (line zones only). */
  hasLast: boolean;
  lastX: number;
  lastY: number;
}

interface ZoneState {
  zoneId: string;
  zoneName: string;
  tracks: Map<string, TrackState>;
  /** Tracks inside and not suppressed (kept incrementally). */
  live: number;
}

interface CameraState {
  zones: Map<string, ZoneState>;
  /** A lower bound of every state's lastSeenMs: no state can be stale while now − this ≤ timeout. */
  oldestSeenMs: number;
}

const DEFAULT_TRACK_TIMEOUT_MS = 120_000;
const DEFAULT_STATIC_EPSILON = 0.02;
const DEFAULT_STATIC_AFTER_MS = 120_000;

export class ZoneEngine {
  private readonly timeoutMs: number;
  private readonly staticEpsilon: number;
  private readonly staticAfterMs: number;
  private readonly cameras = new Map<string, CameraState>();
  private readonly compiled = new Map<string, CompiledZone>();
  // Per-batch scratch, reused across calls (the engine is synchronous, so never shared).
  private readonly pick = new Map<string, number>();
  private sel = new Int32Array(64);
  private gx = new Float64Array(64);
  private gy = new Float64Array(64);

  constructor(
    private readonly clock: EngineClock,
    options: ZoneEngineOptions = {},
  ) {
    this.timeoutMs = options.trackTimeoutMs ?? DEFAULT_TRACK_TIMEOUT_MS;
    this.staticEpsilon = options.staticEpsilon ?? DEFAULT_STATIC_EPSILON;
    this.staticAfterMs = options.staticAfterMs ?? DEFAULT_STATIC_AFTER_MS;
  }

  /**
   * One batch of detections for ONE camera against that camera's zones (disabled zones and zones
   * of other cameras are skipped), then the timeout sweep of this camera only.
   */
  process(cameraId: string, zones: readonly ZoneDef[], detections: readonly EngineDetection[]): ZoneOutput {
    const now = this.clock.nowMs();
    const events: ZoneEngineEvent[] = [];
    const notices: StaticNotice[] = [];
    const n = this.select(detections);
    let cam = this.cameras.get(cameraId);
    // Every state touched below gets lastSeen = now; keep the bound valid if the clock stepped back.
    if (cam !== undefined && now < cam.oldestSeenMs) cam.oldestSeenMs = now;
    for (const def of zones) {
      if (!def.enabled || def.cameraId !== cameraId) continue;
      if (n === 0) {
        // Nothing to evaluate; still pick up a rename for exits synthesized by the sweep below.
        const zs = cam?.zones.get(def.id);
        if (zs !== undefined) zs.zoneName = def.name;
        continue;
      }
      const z = this.compile(def);
      if (cam === undefined) {
        cam = { zones: new Map(), oldestSeenMs: now };
        this.cameras.set(cameraId, cam);
      }
      this.evaluateZone(cameraId, cam, z, detections, n, now, events, notices);
    }
    if (cam !== undefined && cam.zones.size === 0) {
      this.cameras.delete(cameraId);
      cam = undefined;
    }
    if (cam !== undefined) this.sweepCamera(cameraId, cam, now, events);
    return { events, notices, occupancy: this.occupancyOf(cameraId, zones, now) };
  }

  /** The timeout sweep of one camera: drops its stale states, returns the synthesized exits. */
  sweep(cameraId: string): ZoneEngineEvent[] {
    const out: ZoneEngineEvent[] = [];
    const cam = this.cameras.get(cameraId);
    if (cam !== undefined) this.sweepCamera(cameraId, cam, this.clock.nowMs(), out);
    return out;
  }

  /** The timeout sweep of every camera; each synthesized exit carries its own camera. */
  sweepAll(): ZoneEngineEvent[] {
    const now = this.clock.nowMs();
    const out: ZoneEngineEvent[] = [];
    for (const [cameraId, cam] of this.cameras) this.sweepCamera(cameraId, cam, now, out);
    return out;
  }

  /**
   * Current occupancy of the camera's enabled zones (as in `process`), counting only tracks seen
   * within the timeout — e.g. for a periodic timer after `sweep`.
   */
  occupancy(cameraId: string, zones: readonly ZoneDef[]): ZoneOccupancy[] {
    return this.occupancyOf(cameraId, zones, this.clock.nowMs());
  }

  /** Drops every state of a camera (camera deleted or its zones reloaded from scratch); no events. */
  forgetCamera(cameraId: string): void {
    this.cameras.delete(cameraId);
    for (const [zoneId, z] of this.compiled) if (z.def.cameraId === cameraId) this.compiled.delete(zoneId);
  }

  /** Drops a zone's states and cached definition (zone deleted or disabled); no events. */
  forgetZone(zoneId: string): void {
    this.compiled.delete(zoneId);
    for (const [cameraId, cam] of this.cameras) {
      if (cam.zones.delete(zoneId) && cam.zones.size === 0) this.cameras.delete(cameraId);
    }
  }

  /**
   * Keeps detections with a track id and a valid bbox, one per track (highest confidence; the
   * first on a tie), in order of first appearance. Fills `sel` (indexes into `detections`) and
   * the ground points `gx`/`gy`; returns how many.
   */
  private select(detections: readonly EngineDetection[]): number {
    const pick = this.pick;
    pick.clear();
    for (let i = 0; i < detections.length; i++) {
      const d = detections[i];
      if (typeof d.trackId !== 'string' || d.trackId === '' || !isValidBbox(d.bbox)) continue;
      const prev = pick.get(d.trackId);
      if (prev === undefined || d.confidence > detections[prev].confidence) pick.set(d.trackId, i);
    }
    const n = pick.size;
    if (n > this.sel.length) {
      const cap = Math.max(n, this.sel.length * 2);
      this.sel = new Int32Array(cap);
      this.gx = new Float64Array(cap);
      this.gy = new Float64Array(cap);
    }
    let k = 0;
    for (const i of pick.values()) {
      const b = detections[i].bbox;
      this.sel[k] = i;
      this.gx[k] = b[0] + b[2] / 2;
      this.gy[k] = b[1] + b[3];
      k++;
    }
    return n;
  }

  private evaluateZone(
    cameraId: string,
    cam: CameraState,
    z: CompiledZone,
    detections: readonly EngineDetection[],
    n: number,
    now: number,
    events: ZoneEngineEvent[],
    notices: StaticNotice[],
  ): void {
    const def = z.def;
    let zs = cam.zones.get(def.id);
    if (zs !== undefined) zs.zoneName = def.name;
    for (let k = 0; k < n; k++) {
      const d = detections[this.sel[k]];
      if (z.labels !== null && !z.labels.has(d.label)) continue;
      // `!(>=)` also makes a NaN confidence invisible.
      if (!(d.confidence >= z.minConfidence)) continue;
      const x = this.gx[k];
      const y = this.gy[k];

      if (zs === undefined) {
        zs = { zoneId: def.id, zoneName: def.name, tracks: new Map(), live: 0 };
        cam.zones.set(def.id, zs);
      }
      let s = zs.tracks.get(d.trackId);
      if (s === undefined) {
        s = this.newTrack(zs, z, d.trackId, x, y, now);
        zs.tracks.set(d.trackId, s);
      }
      s.lastSeenMs = now;

      // Static suppression first, so this observation's events are already gated.
      if (z.staticOn) {
        const dx = x - s.originX;
        const dy = y - s.originY;
        const dist = Math.sqrt(dx * dx + dy * dy);
        if (dist > s.maxDisplacement) s.maxDisplacement = dist;
        if (s.suppressed) {
          if (s.maxDisplacement >= z.staticEpsilon) this.unsuppress(cameraId, zs, s, d.label, now, events);
        } else if (s.maxDisplacement < z.staticEpsilon && now - s.firstSeenMs >= z.staticAfterMs) {
          s.suppressed = true;
          if (s.inside) zs.live--;
          notices.push({
            cameraId,
            zoneId: def.id,
            zoneName: def.name,
            trackId: d.trackId,
            label: d.label,
            atMs: now,
          });
        }
      } else if (s.suppressed) {
        // Suppression was switched off for the zone: the object counts again.
        this.unsuppress(cameraId, zs, s, d.label, now, events);
      }

      if (z.isLine) {
        if (z.hasLine && s.hasLast && !s.suppressed) {
          const type = lineCrossing(s.lastX, s.lastY, x, y, z.ax, z.ay, z.bx, z.by);
          if ((type === 'cross_ab' && z.wantAb) || (type === 'cross_ba' && z.wantBa)) {
            events.push(event(cameraId, zs, type, d.trackId, d.label, null, now));
          }
        }
        s.hasLast = true;
        s.lastX = x;
        s.lastY = y;
        continue;
      }

      const raw = insideCompiled(z, clampToFrame(x), clampToFrame(y)); // on the frame edge = in the frame
      if (raw === s.inside) {
        s.flipCount = 0;
      } else if (++s.flipCount >= z.confirmFrames) {
        s.inside = raw;
        s.flipCount = 0;
        // A suppressed (static) track changes membership silently.
        if (!s.suppressed) {
          if (raw) {
            zs.live++;
            s.enteredAtMs = now;
            s.dwellEmitted = false;
            events.push(event(cameraId, zs, 'enter', d.trackId, d.label, null, now));
          } else {
            zs.live--;
            events.push(event(cameraId, zs, 'exit', d.trackId, d.label, null, now));
          }
        }
      }

      if (s.inside && !s.suppressed && z.dwellMs > 0 && !s.dwellEmitted && now - s.enteredAtMs >= z.dwellMs) {
        s.dwellEmitted = true;
        events.push(event(cameraId, zs, 'dwell', d.trackId, d.label, (now - s.enteredAtMs) / 1000, now));
      }
    }
  }

  /**
   * A state for a track first seen in a zone. A detector flickering around its threshold re-births
   * a static object under fresh track ids: a new track within epsilon of a suppressed sibling's
   * origin (same camera and zone) is that object, so it inherits the origin and the suppression
   * (and, the notice having been given, never announces again).
   */
  private newTrack(
    zs: ZoneState,
    z: CompiledZone,
    trackId: string,
    x: number,
    y: number,
    now: number,
  ): TrackState {
    let originX = x;
    let originY = y;
    let inherited = false;
    if (z.staticOn) {
      for (const other of zs.tracks.values()) {
        if (!other.suppressed) continue;
        const dx = x - other.originX;
        const dy = y - other.originY;
        if (Math.sqrt(dx * dx + dy * dy) < z.staticEpsilon) {
          originX = other.originX;
          originY = other.originY;
          inherited = true;
          break;
        }
      }
    }
    return {
      trackId,
      inside: false,
      enteredAtMs: now,
      dwellEmitted: false,
      lastSeenMs: now,
      flipCount: 0,
      firstSeenMs: now,
      originX,
      originY,
      maxDisplacement: 0,
      suppressed: inherited,
      hasLast: false,
      lastX: 0,
      lastY: 0,
    };
  }

  /** Lifts suppression; a track already inside is announced again (a new visit for dwell). */
  private unsuppress(
    cameraId: string,
    zs: ZoneState,
    s: TrackState,
    label: string,
    now: number,
    events: ZoneEngineEvent[],
  ): void {
    s.suppressed = false;
    if (s.inside) {
      zs.live++;
      s.enteredAtMs = now;
      s.dwellEmitted = false;
      events.push(event(cameraId, zs, 'enter', s.trackId, label, null, now));
    }
  }

  private sweepCamera(cameraId: string, cam: CameraState, now: number, out: ZoneEngineEvent[]): void {
    if (now - cam.oldestSeenMs <= this.timeoutMs) return;
    let oldest = now;
    for (const [zoneId, zs] of cam.zones) {
      for (const [trackId, s] of zs.tracks) {
        if (now - s.lastSeenMs > this.timeoutMs) {
          zs.tracks.delete(trackId);
          if (s.inside && !s.suppressed) {
            zs.live--;
            out.push(event(cameraId, zs, 'exit', trackId, '', null, now));
          }
        } else if (s.lastSeenMs < oldest) {
          oldest = s.lastSeenMs;
        }
      }
      if (zs.tracks.size === 0) cam.zones.delete(zoneId);
    }
    if (cam.zones.size === 0) this.cameras.delete(cameraId);
    else cam.oldestSeenMs = oldest;
  }

  private occupancyOf(cameraId: string, zones: readonly ZoneDef[], now: number): ZoneOccupancy[] {
    const cam = this.cameras.get(cameraId);
    // After a sweep every remaining state is fresh, so the incremental counts are exact; only a
    // caller reading between sweeps needs the per-track check.
    const mayBeStale = cam !== undefined && now - cam.oldestSeenMs > this.timeoutMs;
    const out: ZoneOccupancy[] = [];
    for (const def of zones) {
      if (!def.enabled || def.cameraId !== cameraId) continue;
      const zs = cam?.zones.get(def.id);
      let count = 0;
      if (zs !== undefined) {
        if (!mayBeStale) count = zs.live;
        else {
          for (const s of zs.tracks.values()) {
            if (s.inside && !s.suppressed && now - s.lastSeenMs <= this.timeoutMs) count++;
          }
        }
      }
      out.push({ zoneId: def.id, count });
    }
    return out;
  }

  /** The compiled form of a zone, cached by id and rebuilt when the definition changes. */
  private compile(def: ZoneDef): CompiledZone {
    const cached = this.compiled.get(def.id);
    if (cached !== undefined) {
      if (cached.def === def) return cached;
      if (sameDef(cached.def, def)) {
        cached.def = def;
        return cached;
      }
    }
    const z = compileZone(def, this.staticEpsilon, this.staticAfterMs);
    this.compiled.set(def.id, z);
    return z;
  }
}

function event(
  cameraId: string,
  zs: ZoneState,
  type: ZoneEventType,
  trackId: string,
  label: string,
  dwellSeconds: number | null,
  atMs: number,
): ZoneEngineEvent {
  return { cameraId, zoneId: zs.zoneId, zoneName: zs.zoneName, type, trackId, label, dwellSeconds, atMs };
}

/**
 * `cross_ab` when the movement prev→cur properly crosses A→B starting on the positive side of
 * A→B (cross(A, B, prev) > 0), `cross_ba` when it crosses from the other side, null otherwise.
 * Same arithmetic as `segmentsProperlyIntersect`/`cross` in zone-geometry, on scalars.
 */
function lineCrossing(
  px: number,
  py: number,
  cx: number,
  cy: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
): 'cross_ab' | 'cross_ba' | null {
  const d1 = (bx - ax) * (py - ay) - (by - ay) * (px - ax);
  const d2 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
  if (!((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0))) return null;
  const d3 = (cx - px) * (ay - py) - (cy - py) * (ax - px);
  const d4 = (cx - px) * (by - py) - (cy - py) * (bx - px);
  if (!((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return null;
  return d1 > 0 ? 'cross_ab' : 'cross_ba';
}

/**
 * `pointInPolygon` (zone-geometry) on the compiled polygon, after a bounding-box reject that
 * cannot change its answer. With y < minY or y ≥ maxY no edge straddles the ray's height (exact
 * comparisons). Left of the box every straddling edge's crossing is right of the point, and a
 * closed polygon has an even number of them; right of the box none is. The x bounds are widened
 * by a margin far above the rounding error of the computed crossing (a few ulps of the largest
 * coordinate), so rounding can never put a crossing on the other side of a rejected point.
 */
function insideCompiled(z: CompiledZone, x: number, y: number): boolean {
  if (!(y >= z.minY && y < z.maxY && x >= z.rejectMinX && x <= z.rejectMaxX)) return false;
  const xs = z.xs;
  const ys = z.ys;
  const n = xs.length;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const yi = ys[i];
    const yj = ys[j];
    if (yi > y !== yj > y && x < ((xs[j] - xs[i]) * (y - yi)) / (yj - yi) + xs[i]) inside = !inside;
  }
  return inside;
}

function compileZone(def: ZoneDef, defaultEpsilon: number, defaultAfterMs: number): CompiledZone {
  const isLine = def.kind === 'line';
  const poly = def.polygon;
  const usable = !isLine && poly.length >= 3;
  const m = usable ? poly.length : 0;
  const xs = new Float64Array(m);
  const ys = new Float64Array(m);
  // An unusable polygon gets an empty box (min > max), so every point is rejected.
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < m; i++) {
    const px = poly[i][0];
    const py = poly[i][1];
    xs[i] = px;
    ys[i] = py;
    if (px < minX) minX = px;
    if (px > maxX) maxX = px;
    if (py < minY) minY = py;
    if (py > maxY) maxY = py;
  }
  const margin = 1e-12 * (1 + Math.max(Math.abs(minX), Math.abs(maxX)));
  const hasLine = isLine && poly.length >= 2;
  const confirm = Number.isFinite(def.confirmFrames) ? Math.floor(def.confirmFrames) : 2;
  const dwell = Number.isFinite(def.dwellSeconds) ? def.dwellSeconds : 0;
  const eps = def.staticEpsilon;
  const after = def.staticAfterSeconds;
  return {
    def,
    isLine,
    xs,
    ys,
    minY,
    maxY,
    rejectMinX: minX - margin,
    rejectMaxX: maxX + margin,
    hasLine,
    ax: hasLine ? poly[0][0] : 0,
    ay: hasLine ? poly[0][1] : 0,
    bx: hasLine ? poly[1][0] : 0,
    by: hasLine ? poly[1][1] : 0,
    labels: def.labels.length > 0 ? new Set(def.labels) : null,
    minConfidence: def.minConfidence,
    confirmFrames: Math.min(10, Math.max(1, confirm)),
    dwellMs: dwell > 0 ? dwell * 1000 : 0,
    wantAb: def.direction !== 'ba',
    wantBa: def.direction !== 'ab',
    staticOn: def.staticSuppression,
    staticEpsilon: eps !== undefined && Number.isFinite(eps) && eps > 0 ? eps : defaultEpsilon,
    staticAfterMs:
      after !== undefined && Number.isFinite(after) && after >= 0 ? after * 1000 : defaultAfterMs,
  };
}

/** Structural equality of two definitions (everything the compiled form depends on). */
function sameDef(a: ZoneDef, b: ZoneDef): boolean {
  if (
    a.cameraId !== b.cameraId ||
    a.name !== b.name ||
    a.kind !== b.kind ||
    a.minConfidence !== b.minConfidence ||
    a.confirmFrames !== b.confirmFrames ||
    a.dwellSeconds !== b.dwellSeconds ||
    a.direction !== b.direction ||
    a.staticSuppression !== b.staticSuppression ||
    a.enabled !== b.enabled ||
    a.staticEpsilon !== b.staticEpsilon ||
    a.staticAfterSeconds !== b.staticAfterSeconds ||
    a.labels.length !== b.labels.length ||
    a.polygon.length !== b.polygon.length
  ) {
    return false;
  }
  for (let i = 0; i < a.labels.length; i++) if (a.labels[i] !== b.labels[i]) return false;
  for (let i = 0; i < a.polygon.length; i++) {
    if (a.polygon[i][0] !== b.polygon[i][0] || a.polygon[i][1] !== b.polygon[i][1]) return false;
  }
  return true;
}
