import { ZoneEngine, type EngineDetection, type ZoneDef } from '../src/zones/zone-engine';
import { groundPoint, pointInPolygon, type Point } from '../src/zones/zone-geometry';

const CAMERA = 'cam_bench';
const TRACKS = 50;
/** Distinct batches generated up front (replayed in a loop, so generation is never timed). */
const DISTINCT_BATCHES = 2_000;
/** Batches per timed run; one batch = one frame of one camera at 10 fps (100 ms of server time). */
const BATCHES = 6_000;
const ROUNDS = 3;
/** A track id is replaced every this many batches (staggered): states are created and time out. */
const TRACK_LIFETIME = 300;

export interface ZonesBenchResult {
  /** Detections × zones evaluated per second by `ZoneEngine.process` (all of it: dedup, filters, state, events). */
  evaluations_per_s: number;
  /** Bare `pointInPolygon` calls per second for the same points and zones, same run. */
  raw_point_in_polygon_per_s: number;
  /** evaluations_per_s / raw_point_in_polygon_per_s. */
  ratio: number;
  zones: number;
  tracks: number;
}

function regularPolygon(cx: number, cy: number, r: number, sides: number): Array<[number, number]> {
  return Array.from({ length: sides }, (_, i): [number, number] => {
    const a = (2 * Math.PI * i) / sides;
    return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  });
}

function zoneDef(id: string, kind: ZoneDef['kind'], polygon: Array<[number, number]>): ZoneDef {
  return {
    id,
    cameraId: CAMERA,
    name: id,
    kind,
    polygon,
    labels: [],
    minConfidence: 0.5,
    confirmFrames: 2,
    dwellSeconds: 10,
    direction: 'any',
    staticSuppression: true,
    enabled: true,
  };
}

/** Two regions (an octagon, a concave 12-point "L") and one line across the frame. */
const ZONES: ZoneDef[] = [
  zoneDef('zone_lobby', 'region', regularPolygon(0.35, 0.55, 0.25, 8)),
  zoneDef('zone_yard', 'region', [
    [0.5, 0.1],
    [0.95, 0.1],
    [0.95, 0.9],
    [0.6, 0.9],
    [0.6, 0.7],
    [0.7, 0.7],
    [0.7, 0.5],
    [0.8, 0.5],
    [0.8, 0.3],
    [0.6, 0.3],
    [0.6, 0.2],
    [0.5, 0.2],
  ]),
  zoneDef('zone_gate', 'line', [
    [0.55, 0.05],
    [0.45, 0.95],
  ]),
];

/** 50 tracks on Lissajous paths (people wandering through the zones), one detection each per batch. */
function makeBatches(): EngineDetection[][] {
  const batches: EngineDetection[][] = [];
  for (let b = 0; b < DISTINCT_BATCHES; b++) {
    const batch: EngineDetection[] = [];
    for (let t = 0; t < TRACKS; t++) {
      const s = b * 0.02;
      const x = 0.5 + 0.45 * Math.sin((1 + (t % 5) * 0.1) * s + t);
      const y = 0.45 + 0.4 * Math.sin((1.3 + (t % 7) * 0.1) * s + 2 * t);
      const generation = Math.floor((b + t * 7) / TRACK_LIFETIME);
      batch.push({
        trackId: `trk_${t}_${generation}`,
        label: t % 4 === 0 ? 'car' : 'person',
        confidence: 0.55 + (t % 9) * 0.05,
        bbox: [x - 0.025, y - 0.1, 0.05, 0.1],
      });
    }
    batches.push(batch);
  }
  return batches;
}

function runEngine(batches: EngineDetection[][], count: number): { seconds: number; events: number } {
  const clock = { t: 1_700_000_000_000, nowMs: () => clock.t };
  const engine = new ZoneEngine(clock);
  let events = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    clock.t += 100;
    events += engine.process(CAMERA, ZONES, batches[i % batches.length]).events.length;
  }
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, events };
}

function runRaw(points: Point[][], count: number): { seconds: number; inside: number } {
  let inside = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const batch = points[i % points.length];
    for (const pt of batch) {
      for (const z of ZONES) if (pointInPolygon(pt, z.polygon)) inside++;
    }
  }
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, inside };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * 3 zones (two regions, one line) × 50 moving tracks on one camera, 6,000 batches (10 min of
 * 10 fps) per round: zone evaluations per second through `ZoneEngine.process`, next to bare
 * `pointInPolygon` calls on the same ground points and zones in the same run (median of 3 rounds).
 */
export async function benchZones(): Promise<ZonesBenchResult> {
  const batches = makeBatches();
  const points = batches.map((batch) => batch.map((d) => groundPoint(d.bbox) as Point));
  // Warm-up (JIT) for both sides.
  runEngine(batches, 1_000);
  runRaw(points, 1_000);

  const engineRates: number[] = [];
  const rawRates: number[] = [];
  let events = 0;
  let inside = 0;
  const evaluations = BATCHES * TRACKS * ZONES.length;
  for (let r = 0; r < ROUNDS; r++) {
    const e = runEngine(batches, BATCHES);
    const w = runRaw(points, BATCHES);
    engineRates.push(evaluations / e.seconds);
    rawRates.push(evaluations / w.seconds);
    events += e.events;
    inside += w.inside;
  }
  // Keeps the work observable (and proves the workload produces events and hits).
  if (events === 0 || inside === 0) throw new Error('zones bench: the workload produced no events or hits');
  const evaluationsPerS = median(engineRates);
  const rawPerS = median(rawRates);
  return {
    evaluations_per_s: Math.round(evaluationsPerS),
    raw_point_in_polygon_per_s: Math.round(rawPerS),
    ratio: Math.round((evaluationsPerS / rawPerS) * 1000) / 1000,
    zones: ZONES.length,
    tracks: TRACKS,
  };
}
