import fc from 'fast-check';
import {
  ZoneEngine,
  type EngineClock,
  type EngineDetection,
  type StaticNotice,
  type ZoneDef,
  type ZoneEngineEvent,
} from './zone-engine';
import { clampToFrame, pointInPolygon } from './zone-geometry';

const T0 = 1_700_000_000_000;

/** A clock the test moves by hand. */
class FakeClock implements EngineClock {
  t = T0;
  nowMs(): number {
    return this.t;
  }
}

const SQUARE: Array<[number, number]> = [
  [0.2, 0.2],
  [0.8, 0.2],
  [0.8, 0.8],
  [0.2, 0.8],
];
const VERTICAL_LINE: Array<[number, number]> = [
  [0.5, 0],
  [0.5, 1],
];

/** Region "Door" on cam1 over SQUARE; static suppression off unless a test turns it on. */
function zone(over: Partial<ZoneDef> = {}): ZoneDef {
  return {
    id: 'zone_door',
    cameraId: 'cam1',
    name: 'Door',
    kind: 'region',
    polygon: SQUARE,
    labels: [],
    minConfidence: 0.5,
    confirmFrames: 2,
    dwellSeconds: 0,
    direction: 'any',
    staticSuppression: false,
    enabled: true,
    ...over,
  };
}

function lineZone(over: Partial<ZoneDef> = {}): ZoneDef {
  return zone({ id: 'zone_gate', name: 'Gate', kind: 'line', polygon: VERTICAL_LINE, ...over });
}

/** A detection whose ground point is exactly (x, y) (zero-size bbox at the point). */
function det(trackId: string, x: number, y: number, over: Partial<EngineDetection> = {}): EngineDetection {
  return { trackId, label: 'person', confidence: 0.9, bbox: [x, y, 0, 0], ...over };
}

const IN: [number, number] = [0.5, 0.5];
const OUT: [number, number] = [0.9, 0.5];

function ev(
  type: ZoneEngineEvent['type'],
  trackId: string,
  ms: number,
  over: Partial<ZoneEngineEvent> = {},
): ZoneEngineEvent {
  return {
    cameraId: 'cam1',
    zoneId: 'zone_door',
    zoneName: 'Door',
    type,
    trackId,
    label: 'person',
    dwellSeconds: null,
    atMs: T0 + ms,
    ...over,
  };
}

function notice(trackId: string, ms: number, over: Partial<StaticNotice> = {}): StaticNotice {
  return {
    cameraId: 'cam1',
    zoneId: 'zone_door',
    zoneName: 'Door',
    trackId,
    label: 'person',
    atMs: T0 + ms,
    ...over,
  };
}

let clock: FakeClock;
let engine: ZoneEngine;

beforeEach(() => {
  clock = new FakeClock();
  engine = new ZoneEngine(clock);
});

/** Sets the clock to T0 + ms and processes one batch. */
function at(ms: number, zones: ZoneDef[], detections: EngineDetection[], cameraId = 'cam1') {
  clock.t = T0 + ms;
  return engine.process(cameraId, zones, detections);
}

/** Events of one batch. */
function events(ms: number, zones: ZoneDef[], detections: EngineDetection[], cameraId = 'cam1') {
  return at(ms, zones, detections, cameraId).events;
}

describe('ZoneEngine — input selection', () => {
  const z = [zone({ confirmFrames: 1 })];

  it('ignores detections without a track id or without a valid bbox', () => {
    expect(
      events(0, z, [
        det('', ...IN),
        det('t_nan', ...IN, { bbox: [0.5, NaN, 0, 0] }),
        det('t_inf', ...IN, { bbox: [0.5, 0.5, Infinity, 0] }),
        det('t_short', ...IN, { bbox: [0.5, 0.5, 0] }),
        det('t_ok', ...IN),
      ]),
    ).toEqual([ev('enter', 't_ok', 0)]);
  });

  it('lets an invalid bbox never shadow a valid detection of the same track', () => {
    expect(
      events(0, z, [
        det('t1', ...IN, { confidence: 0.6 }),
        det('t1', ...OUT, { confidence: 0.99, bbox: [0.9] }),
      ]),
    ).toEqual([ev('enter', 't1', 0)]);
  });

  it('keeps the highest-confidence detection per track', () => {
    expect(
      events(0, z, [
        det('t1', ...IN, { confidence: 0.6, label: 'a' }),
        det('t1', ...OUT, { confidence: 0.9, label: 'b' }),
      ]),
    ).toEqual([]);
    expect(
      events(100, z, [
        det('t1', ...OUT, { confidence: 0.7, label: 'a' }),
        det('t1', ...IN, { confidence: 0.95, label: 'b' }),
      ]),
    ).toEqual([ev('enter', 't1', 100, { label: 'b' })]);
  });

  it('keeps the first detection of a track on a confidence tie', () => {
    expect(
      events(0, z, [
        det('t1', ...IN, { confidence: 0.8, label: 'first' }),
        det('t1', ...OUT, { confidence: 0.8, label: 'second' }),
      ]),
    ).toEqual([ev('enter', 't1', 0, { label: 'first' })]);
  });

  it('dedups before the zone filters (the best detection decides, even when the zone rejects it)', () => {
    const people = [zone({ confirmFrames: 1, labels: ['person'] })];
    expect(
      events(0, people, [
        det('t1', ...IN, { confidence: 0.6, label: 'person' }),
        det('t1', ...IN, { confidence: 0.9, label: 'dog' }),
      ]),
    ).toEqual([]);
  });

  it('uses the bottom-centre of the bbox as the point', () => {
    expect(
      events(0, z, [
        // top-left (0.3, 0.1) is outside, ground point (0.4, 0.4) is inside
        det('t_feet_in', 0, 0, { bbox: [0.3, 0.1, 0.2, 0.3] }),
        // top-left (0.5, 0.5) is inside, ground point (0.55, 0.9) is outside
        det('t_feet_out', 0, 0, { bbox: [0.5, 0.5, 0.1, 0.4] }),
      ]),
    ).toEqual([ev('enter', 't_feet_in', 0)]);
  });

  it('orders events by zone (as passed), then by track (first appearance in the batch)', () => {
    const lobby = zone({ id: 'zone_lobby', name: 'Lobby', confirmFrames: 1 });
    expect(events(0, [lobby, zone({ confirmFrames: 1 })], [det('t2', ...IN), det('t1', ...IN)])).toEqual([
      ev('enter', 't2', 0, { zoneId: 'zone_lobby', zoneName: 'Lobby' }),
      ev('enter', 't1', 0, { zoneId: 'zone_lobby', zoneName: 'Lobby' }),
      ev('enter', 't2', 0),
      ev('enter', 't1', 0),
    ]);
  });

  it('skips disabled zones and zones of another camera', () => {
    const other = zone({ id: 'zone_other', cameraId: 'cam2', confirmFrames: 1 });
    const off = zone({ id: 'zone_off', enabled: false, confirmFrames: 1 });
    const out = at(0, [other, off], [det('t1', ...IN)]);
    expect(out).toEqual({ events: [], notices: [], occupancy: [] });
  });
});

describe('ZoneEngine — membership debounce, enter and exit', () => {
  it('needs confirmFrames consecutive observations to enter and to exit; a 1-frame flicker flips nothing', () => {
    const z = [zone()];
    expect(events(0, z, [det('t1', ...IN)])).toEqual([]);
    expect(events(100, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 100)]);
    expect(events(200, z, [det('t1', ...OUT)])).toEqual([]);
    expect(events(300, z, [det('t1', ...IN)])).toEqual([]);
    expect(events(400, z, [det('t1', ...OUT)])).toEqual([]);
    expect(events(500, z, [det('t1', ...OUT)])).toEqual([ev('exit', 't1', 500)]);
    expect(events(600, z, [det('t1', ...IN)])).toEqual([]);
    expect(events(700, z, [det('t1', ...OUT)])).toEqual([]);
  });

  it('restarts the count when the streak is interrupted (confirmFrames 3)', () => {
    const z = [zone({ confirmFrames: 3 })];
    expect(events(0, z, [det('t1', ...IN)])).toEqual([]);
    expect(events(1, z, [det('t1', ...IN)])).toEqual([]);
    expect(events(2, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 2)]);
    expect(events(3, z, [det('t1', ...OUT)])).toEqual([]);
    expect(events(4, z, [det('t1', ...OUT)])).toEqual([]);
    expect(events(5, z, [det('t1', ...IN)])).toEqual([]);
    expect(events(6, z, [det('t1', ...OUT)])).toEqual([]);
    expect(events(7, z, [det('t1', ...OUT)])).toEqual([]);
    expect(events(8, z, [det('t1', ...OUT)])).toEqual([ev('exit', 't1', 8)]);
  });

  it('flips on the first observation with confirmFrames 1', () => {
    const z = [zone({ confirmFrames: 1 })];
    expect(events(0, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 0)]);
    expect(events(1, z, [det('t1', ...OUT)])).toEqual([ev('exit', 't1', 1)]);
  });

  it('clamps confirmFrames into 1..10', () => {
    const zero = [zone({ confirmFrames: 0 })];
    expect(events(0, zero, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 0)]);
    const many = [zone({ id: 'zone_many', confirmFrames: 50 })];
    const seen: ZoneEngineEvent[] = [];
    for (let i = 1; i <= 10; i++) seen.push(...events(i, many, [det('t2', ...IN)]));
    expect(seen).toEqual([ev('enter', 't2', 10, { zoneId: 'zone_many' })]);
  });

  it('does not count a batch without the track (or an empty batch) as an outside observation', () => {
    const z = [zone()];
    events(0, z, [det('t1', ...IN)]);
    expect(events(100, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 100)]);
    expect(events(200, z, [det('t2', ...OUT)])).toEqual([]);
    expect(events(300, z, [])).toEqual([]);
    expect(events(400, z, [det('t1', ...OUT)])).toEqual([]);
    expect(events(500, z, [det('t2', ...OUT)])).toEqual([]);
    expect(events(600, z, [det('t1', ...IN)])).toEqual([]);
  });

  it('tracks each track independently and labels each event with its detection', () => {
    const z = [zone({ confirmFrames: 1 })];
    expect(events(0, z, [det('t1', ...IN, { label: 'car' }), det('t2', ...OUT)])).toEqual([
      ev('enter', 't1', 0, { label: 'car' }),
    ]);
    expect(events(1, z, [det('t1', ...OUT, { label: 'truck' }), det('t2', ...IN)])).toEqual([
      ev('exit', 't1', 1, { label: 'truck' }),
      ev('enter', 't2', 1),
    ]);
  });
});

describe('ZoneEngine — dwell', () => {
  it('emits one dwell per visit once inside ≥ dwellSeconds, with the measured seconds', () => {
    const z = [zone({ dwellSeconds: 5 })];
    events(0, z, [det('t1', ...IN)]);
    expect(events(1_000, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 1_000)]);
    expect(events(5_999, z, [det('t1', ...IN)])).toEqual([]);
    expect(events(6_000, z, [det('t1', ...IN)])).toEqual([ev('dwell', 't1', 6_000, { dwellSeconds: 5 })]);
    expect(events(7_000, z, [det('t1', ...IN)])).toEqual([]);
    expect(events(60_000, z, [det('t1', ...IN)])).toEqual([]);
    events(61_000, z, [det('t1', ...OUT)]);
    expect(events(62_000, z, [det('t1', ...OUT)])).toEqual([ev('exit', 't1', 62_000)]);
    expect(events(80_000, z, [det('t1', ...OUT)])).toEqual([]);
    events(81_000, z, [det('t1', ...IN)]);
    expect(events(82_000, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 82_000)]);
    // A new visit: dwell again, measured from the new enter (5.5 s at the first look after 5 s).
    expect(events(87_500, z, [det('t1', ...IN)])).toEqual([ev('dwell', 't1', 87_500, { dwellSeconds: 5.5 })]);
    expect(events(90_000, z, [det('t1', ...IN)])).toEqual([]);
  });

  it('emits no dwell when dwellSeconds is 0', () => {
    const z = [zone({ dwellSeconds: 0, confirmFrames: 1 })];
    expect(events(0, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 0)]);
    expect(events(100_000, z, [det('t1', ...IN)])).toEqual([]);
  });

  it('needs an observation: an unseen track does not dwell', () => {
    const z = [zone({ dwellSeconds: 2, confirmFrames: 1 })];
    expect(events(0, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 0)]);
    expect(events(3_000, z, [det('t2', ...OUT)])).toEqual([]);
    expect(events(4_000, z, [det('t1', ...IN)])).toEqual([ev('dwell', 't1', 4_000, { dwellSeconds: 4 })]);
  });
});

describe('ZoneEngine — label and confidence filters', () => {
  it('makes detections with other labels invisible (exact, case-sensitive match)', () => {
    const z = [zone({ confirmFrames: 1, labels: ['car', 'truck'] })];
    expect(
      events(0, z, [
        det('t1', ...IN, { label: 'person' }),
        det('t2', ...IN, { label: 'car' }),
        det('t3', ...IN, { label: 'Car' }),
        det('t4', ...IN, { label: 'truck' }),
      ]),
    ).toEqual([ev('enter', 't2', 0, { label: 'car' }), ev('enter', 't4', 0, { label: 'truck' })]);
  });

  it('makes detections below minConfidence (or with NaN confidence) invisible; the floor itself is visible', () => {
    const z = [zone({ confirmFrames: 1, minConfidence: 0.5 })];
    expect(
      events(0, z, [
        det('t1', ...IN, { confidence: 0.49 }),
        det('t2', ...IN, { confidence: 0.5 }),
        det('t3', ...IN, { confidence: NaN }),
      ]),
    ).toEqual([ev('enter', 't2', 0)]);
  });

  it('does not let invisible detections sustain a track (it times out with an exit)', () => {
    const z = [zone({ confirmFrames: 1 })];
    expect(events(0, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 0)]);
    expect(events(60_000, z, [det('t1', ...OUT, { confidence: 0.3 })])).toEqual([]);
    expect(events(110_000, z, [det('t1', ...IN, { confidence: 0.3 })])).toEqual([]);
    expect(events(120_001, z, [])).toEqual([ev('exit', 't1', 120_001, { label: '' })]);
  });

  it('applies the filters per zone', () => {
    const strict = zone({ id: 'zone_strict', name: 'Strict', confirmFrames: 1, minConfidence: 0.8 });
    const cars = zone({ id: 'zone_cars', name: 'Cars', confirmFrames: 1, labels: ['car'] });
    const any = zone({ confirmFrames: 1, minConfidence: 0 });
    expect(events(0, [strict, cars, any], [det('t1', ...IN, { confidence: 0.6 })])).toEqual([
      ev('enter', 't1', 0),
    ]);
  });
});

describe('ZoneEngine — line zones', () => {
  it('emits cross_ab when the movement starts on the positive side of A→B, cross_ba for the reverse', () => {
    const z = [lineZone()];
    const gate = { zoneId: 'zone_gate', zoneName: 'Gate' };
    expect(events(0, z, [det('t1', 0.3, 0.5)])).toEqual([]);
    expect(events(100, z, [det('t1', 0.7, 0.5)])).toEqual([ev('cross_ab', 't1', 100, gate)]);
    expect(events(200, z, [det('t1', 0.7, 0.6)])).toEqual([]);
    expect(events(300, z, [det('t1', 0.3, 0.6)])).toEqual([ev('cross_ba', 't1', 300, gate)]);
  });

  it('needs no debounce and reports several tracks crossing in one batch', () => {
    const z = [lineZone({ confirmFrames: 5 })];
    const gate = { zoneId: 'zone_gate', zoneName: 'Gate' };
    events(0, z, [det('t1', 0.3, 0.5), det('t2', 0.8, 0.2)]);
    expect(events(100, z, [det('t1', 0.6, 0.5), det('t2', 0.2, 0.3)])).toEqual([
      ev('cross_ab', 't1', 100, gate),
      ev('cross_ba', 't2', 100, gate),
    ]);
  });

  it.each<['ab' | 'ba', ZoneEngineEvent['type']]>([
    ['ab', 'cross_ab'],
    ['ba', 'cross_ba'],
  ])('direction %s keeps only %s', (direction, type) => {
    const z = [lineZone({ direction })];
    const seen = [
      ...events(0, z, [det('t1', 0.3, 0.5)]),
      ...events(100, z, [det('t1', 0.7, 0.5)]),
      ...events(200, z, [det('t1', 0.3, 0.5)]),
    ];
    expect(seen).toEqual([
      ev(type, 't1', type === 'cross_ab' ? 100 : 200, { zoneId: 'zone_gate', zoneName: 'Gate' }),
    ]);
  });

  it('ignores touching, colinear movement and crossings of the extension', () => {
    const z = [lineZone()];
    const path: Array<[number, number]> = [
      [0.3, 0.5],
      [0.5, 0.5], // ends on the line
      [0.7, 0.5], // starts on the line
      [0.5, 0.25], // back onto the line
      [0.5, 0.75], // along the line
      [0.3, 1.5],
      [0.7, 1.5], // crosses below B
      [0.7, -0.5],
      [0.3, -0.5], // crosses above A
    ];
    const seen = path.flatMap(([x, y], i) => events(i * 100, z, [det('t1', x, y)]));
    expect(seen).toEqual([]);
  });

  it('has no membership: no enter/exit/dwell, occupancy 0, no exit on timeout', () => {
    const z = [lineZone({ confirmFrames: 1, dwellSeconds: 1 })];
    expect(at(0, z, [det('t1', 0.3, 0.5)])).toEqual({
      events: [],
      notices: [],
      occupancy: [{ zoneId: 'zone_gate', count: 0 }],
    });
    expect(at(5_000, z, [det('t1', 0.3, 0.5)]).events).toEqual([]);
    expect(events(200_000, z, [])).toEqual([]);
  });

  it('skips invisible detections: the crossing is measured between visible positions', () => {
    const z = [lineZone()];
    const gate = { zoneId: 'zone_gate', zoneName: 'Gate' };
    events(0, z, [det('t1', 0.3, 0.5)]);
    expect(events(100, z, [det('t1', 0.7, 0.5, { confidence: 0.2 })])).toEqual([]);
    expect(events(200, z, [det('t1', 0.8, 0.5)])).toEqual([ev('cross_ab', 't1', 200, gate)]);
  });

  it('never fires for a line with fewer than two points', () => {
    const z = [lineZone({ polygon: [[0.5, 0]] })];
    events(0, z, [det('t1', 0.3, 0.5)]);
    expect(events(100, z, [det('t1', 0.7, 0.5)])).toEqual([]);
  });

  it('uses only the first two points of a longer line polygon', () => {
    const z = [
      lineZone({
        polygon: [
          [0.5, 0],
          [0.5, 1],
          [0.9, 1],
        ],
      }),
    ];
    events(0, z, [det('t1', 0.7, 0.9)]);
    expect(events(100, z, [det('t1', 0.7, 1.1)])).toEqual([]);
  });
});

describe('ZoneEngine — static-object suppression', () => {
  const staticZone = (over: Partial<ZoneDef> = {}) => zone({ staticSuppression: true, ...over });

  it('suppresses a still track after static-after: one notice, silent membership, enter again once it moves', () => {
    const z = [staticZone()];
    // Parked just inside the right edge (x = 0.8), jittering by < epsilon (0.02).
    expect(events(0, z, [det('s1', 0.79, 0.5)])).toEqual([]);
    expect(at(1_000, z, [det('s1', 0.79, 0.5)])).toEqual({
      events: [ev('enter', 's1', 1_000)],
      notices: [],
      occupancy: [{ zoneId: 'zone_door', count: 1 }],
    });
    expect(at(119_999, z, [det('s1', 0.791, 0.5)])).toEqual({
      events: [],
      notices: [],
      occupancy: [{ zoneId: 'zone_door', count: 1 }],
    });
    expect(at(120_000, z, [det('s1', 0.789, 0.5)])).toEqual({
      events: [],
      notices: [notice('s1', 120_000)],
      occupancy: [{ zoneId: 'zone_door', count: 0 }],
    });
    expect(at(121_000, z, [det('s1', 0.79, 0.5)]).notices).toEqual([]);
    // Jitter across the edge (still within epsilon of the origin): membership flips silently.
    expect(events(122_000, z, [det('s1', 0.805, 0.5)])).toEqual([]);
    expect(events(123_000, z, [det('s1', 0.805, 0.5)])).toEqual([]);
    expect(events(124_000, z, [det('s1', 0.795, 0.5)])).toEqual([]);
    expect(at(125_000, z, [det('s1', 0.795, 0.5)])).toEqual({
      events: [],
      notices: [],
      occupancy: [{ zoneId: 'zone_door', count: 0 }],
    });
    // It moves: unsuppressed, and (being inside) announced again.
    expect(at(126_000, z, [det('s1', 0.5, 0.5)])).toEqual({
      events: [ev('enter', 's1', 126_000)],
      notices: [],
      occupancy: [{ zoneId: 'zone_door', count: 1 }],
    });
    // The displacement watermark keeps it from ever being suppressed again.
    for (const ms of [200_000, 300_000, 400_000, 500_000]) {
      expect(at(ms, z, [det('s1', 0.5, 0.5)])).toEqual({
        events: [],
        notices: [],
        occupancy: [{ zoneId: 'zone_door', count: 1 }],
      });
    }
  });

  it('unsuppresses without an enter when the track is (silently) outside, then enters normally', () => {
    const z = [staticZone()];
    events(0, z, [det('s1', 0.79, 0.5)]);
    expect(events(1_000, z, [det('s1', 0.79, 0.5)])).toEqual([ev('enter', 's1', 1_000)]);
    expect(at(120_000, z, [det('s1', 0.79, 0.5)]).notices).toEqual([notice('s1', 120_000)]);
    expect(events(121_000, z, [det('s1', 0.805, 0.5)])).toEqual([]);
    expect(events(122_000, z, [det('s1', 0.805, 0.5)])).toEqual([]); // silent exit
    expect(events(123_000, z, [det('s1', 0.95, 0.5)])).toEqual([]); // moved, but outside
    expect(events(124_000, z, [det('s1', ...IN)])).toEqual([]);
    expect(events(125_000, z, [det('s1', ...IN)])).toEqual([ev('enter', 's1', 125_000)]);
  });

  it('suppresses a still track that is outside the zone too (notice only)', () => {
    const z = [staticZone()];
    events(0, z, [det('s1', ...OUT)]);
    expect(at(120_000, z, [det('s1', ...OUT)])).toEqual({
      events: [],
      notices: [notice('s1', 120_000)],
      occupancy: [{ zoneId: 'zone_door', count: 0 }],
    });
    // Silent membership: entering within epsilon emits nothing.
    const edge = zone({
      staticSuppression: true,
      polygon: [
        [0.2, 0.2],
        [0.895, 0.2],
        [0.895, 0.8],
        [0.2, 0.8],
      ],
    });
    expect(events(121_000, [edge], [det('s1', 0.89, 0.5)])).toEqual([]);
    expect(events(122_000, [edge], [det('s1', 0.89, 0.5)])).toEqual([]);
  });

  it('never suppresses a track that has once moved epsilon or more; just under epsilon still suppresses', () => {
    // epsilon 2^-6 so that the distances below are exact.
    const z = [staticZone({ confirmFrames: 1, staticEpsilon: 0.015625 })];
    expect(events(0, z, [det('moved', 0.5, 0.5), det('still', 0.3, 0.3)])).toEqual([
      ev('enter', 'moved', 0),
      ev('enter', 'still', 0),
    ]);
    expect(events(1_000, z, [det('moved', 0.515625, 0.5), det('still', 0.315, 0.3)])).toEqual([]);
    const out = [60_000, 120_000, 180_000, 240_000].map((ms) =>
      at(ms, z, [det('moved', 0.5, 0.5), det('still', 0.3, 0.3)]),
    );
    expect(out.flatMap((o) => o.notices)).toEqual([notice('still', 120_000)]);
    expect(out.flatMap((o) => o.events)).toEqual([]);
    expect(out[3].occupancy).toEqual([{ zoneId: 'zone_door', count: 1 }]);
  });

  it('does nothing when the zone has static suppression off', () => {
    const z = [zone({ staticSuppression: false, confirmFrames: 1 })];
    expect(events(0, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 0)]);
    const out = [100_000, 200_000, 300_000].map((ms) => at(ms, z, [det('t1', ...IN)]));
    expect(out.flatMap((o) => [...o.events, ...o.notices])).toEqual([]);
    expect(out[2].occupancy).toEqual([{ zoneId: 'zone_door', count: 1 }]);
  });

  it('honours per-zone epsilon and static-after overrides, and the engine options', () => {
    const z = [staticZone({ confirmFrames: 1, staticEpsilon: 0.1, staticAfterSeconds: 10 })];
    expect(events(0, z, [det('t1', 0.5, 0.5)])).toEqual([ev('enter', 't1', 0)]);
    expect(at(9_999, z, [det('t1', 0.55, 0.5)]).notices).toEqual([]);
    expect(at(10_000, z, [det('t1', 0.45, 0.5)]).notices).toEqual([notice('t1', 10_000)]);

    const tuned = new ZoneEngine(clock, { staticEpsilon: 0.1, staticAfterMs: 5_000 });
    const dz = [staticZone({ confirmFrames: 1 })];
    clock.t = T0;
    expect(tuned.process('cam1', dz, [det('t2', 0.5, 0.5)]).events).toEqual([ev('enter', 't2', 0)]);
    clock.t = T0 + 5_000;
    expect(tuned.process('cam1', dz, [det('t2', 0.55, 0.5)]).notices).toEqual([notice('t2', 5_000)]);
  });

  it('lets a new track near a suppressed sibling origin inherit the suppression (same camera and zone only)', () => {
    const door = staticZone();
    const hall = staticZone({ id: 'zone_hall', name: 'Hall', staticAfterSeconds: 1000 });
    const cam2 = staticZone({ id: 'zone_cam2', cameraId: 'cam2', name: 'Cam2 door' });
    events(0, [door, hall], [det('s1', 0.5, 0.5)]);
    events(1_000, [door, hall], [det('s1', 0.5, 0.5)]);
    expect(at(120_000, [door, hall], [det('s1', 0.5, 0.5)]).notices).toEqual([notice('s1', 120_000)]);

    // The detector re-births the object as s2 (0.015 from s1's origin); s3 is a real newcomer.
    expect(at(121_000, [door, hall], [det('s2', 0.515, 0.5), det('s3', 0.6, 0.5)])).toEqual({
      events: [],
      notices: [],
      occupancy: [
        { zoneId: 'zone_door', count: 0 },
        { zoneId: 'zone_hall', count: 1 },
      ],
    });
    expect(at(122_000, [door, hall], [det('s2', 0.515, 0.5), det('s3', 0.6, 0.5)])).toEqual({
      events: [
        ev('enter', 's3', 122_000),
        ev('enter', 's2', 122_000, { zoneId: 'zone_hall', zoneName: 'Hall' }),
        ev('enter', 's3', 122_000, { zoneId: 'zone_hall', zoneName: 'Hall' }),
      ],
      notices: [],
      occupancy: [
        { zoneId: 'zone_door', count: 1 },
        { zoneId: 'zone_hall', count: 3 },
      ],
    });
    // Another camera never inherits from cam1.
    events(123_000, [cam2], [det('s2', 0.515, 0.5)], 'cam2');
    expect(events(124_000, [cam2], [det('s2', 0.515, 0.5)], 'cam2')).toEqual([
      ev('enter', 's2', 124_000, { cameraId: 'cam2', zoneId: 'zone_cam2', zoneName: 'Cam2 door' }),
    ]);
    // Displacement counts from the inherited origin (s1's): 0.025 from it — though only 0.01 from
    // s2's own first point — is enough to unsuppress.
    expect(at(130_000, [door], [det('s2', 0.525, 0.5)])).toEqual({
      events: [ev('enter', 's2', 130_000)],
      notices: [],
      occupancy: [{ zoneId: 'zone_door', count: 2 }],
    });
  });

  it('does not inherit from a sibling at epsilon or farther, nor from one that is not suppressed', () => {
    const z = [staticZone({ confirmFrames: 1, staticEpsilon: 0.015625 })];
    events(0, z, [det('s1', 0.5, 0.5)]);
    expect(at(120_000, z, [det('s1', 0.5, 0.5)]).notices).toEqual([notice('s1', 120_000)]);
    // Exactly epsilon from s1's origin: a track of its own.
    expect(events(121_000, z, [det('far', 0.5, 0.515625)])).toEqual([ev('enter', 'far', 121_000)]);
    // 0.009375 from `far` (not suppressed), 0.025 from s1: starts clean too.
    expect(events(122_000, z, [det('near_far', 0.5, 0.525)])).toEqual([ev('enter', 'near_far', 122_000)]);
    // Each measures from its own first point, so each is suppressed on its own clock.
    const still = [det('far', 0.5, 0.515625), det('near_far', 0.5, 0.525)];
    expect(at(200_000, z, still).notices).toEqual([]);
    expect(at(241_000, z, still)).toEqual({
      events: [],
      notices: [notice('far', 241_000)],
      occupancy: [{ zoneId: 'zone_door', count: 1 }],
    });
    expect(at(242_000, z, still)).toEqual({
      events: [],
      notices: [notice('near_far', 242_000)],
      occupancy: [{ zoneId: 'zone_door', count: 0 }],
    });
  });

  it('starts a new visit on unsuppression: dwell again, measured from the re-enter', () => {
    const z = [staticZone({ confirmFrames: 1, dwellSeconds: 5 })];
    expect(events(0, z, [det('s1', ...IN)])).toEqual([ev('enter', 's1', 0)]);
    expect(events(5_000, z, [det('s1', ...IN)])).toEqual([ev('dwell', 's1', 5_000, { dwellSeconds: 5 })]);
    expect(at(120_000, z, [det('s1', ...IN)]).notices).toEqual([notice('s1', 120_000)]);
    expect(events(130_000, z, [det('s1', 0.6, 0.5)])).toEqual([ev('enter', 's1', 130_000)]);
    expect(events(134_000, z, [det('s1', 0.6, 0.5)])).toEqual([]);
    expect(events(136_000, z, [det('s1', 0.6, 0.5)])).toEqual([
      ev('dwell', 's1', 136_000, { dwellSeconds: 6 }),
    ]);
  });

  it('emits no dwell while suppressed', () => {
    const z = [staticZone({ confirmFrames: 1, dwellSeconds: 200 })];
    expect(events(0, z, [det('s1', ...IN)])).toEqual([ev('enter', 's1', 0)]);
    expect(at(120_000, z, [det('s1', ...IN)]).notices).toEqual([notice('s1', 120_000)]);
    expect(events(200_000, z, [det('s1', ...IN)])).toEqual([]);
    expect(events(300_000, z, [det('s1', ...IN)])).toEqual([]);
  });

  it('lifts suppression once the displacement reaches exactly epsilon', () => {
    const z = [staticZone({ confirmFrames: 1, staticEpsilon: 0.015625 })];
    expect(events(0, z, [det('s1', 0.5, 0.5)])).toEqual([ev('enter', 's1', 0)]);
    expect(at(120_000, z, [det('s1', 0.5, 0.5)]).notices).toEqual([notice('s1', 120_000)]);
    expect(events(121_000, z, [det('s1', 0.5078125, 0.5)])).toEqual([]);
    expect(events(122_000, z, [det('s1', 0.515625, 0.5)])).toEqual([ev('enter', 's1', 122_000)]);
  });

  it('synthesizes no exit when a suppressed inside track times out', () => {
    const z = [staticZone({ confirmFrames: 1 })];
    expect(events(0, z, [det('s1', ...IN)])).toEqual([ev('enter', 's1', 0)]);
    expect(at(120_000, z, [det('s1', ...IN)]).notices).toEqual([notice('s1', 120_000)]);
    expect(at(240_001, z, [])).toEqual({
      events: [],
      notices: [],
      occupancy: [{ zoneId: 'zone_door', count: 0 }],
    });
  });

  it('lifts suppression (enter if inside) when the zone turns static suppression off', () => {
    events(0, [staticZone({ confirmFrames: 1 })], [det('s1', ...IN)]);
    expect(at(120_000, [staticZone({ confirmFrames: 1 })], [det('s1', ...IN)]).notices).toEqual([
      notice('s1', 120_000),
    ]);
    expect(at(121_000, [zone({ confirmFrames: 1 })], [det('s1', ...IN)])).toEqual({
      events: [ev('enter', 's1', 121_000)],
      notices: [],
      occupancy: [{ zoneId: 'zone_door', count: 1 }],
    });
  });

  it('silences line crossings of a jittering static object until it really moves', () => {
    const z = [lineZone({ staticSuppression: true, staticAfterSeconds: 10 })];
    const gate = { zoneId: 'zone_gate', zoneName: 'Gate' };
    events(0, z, [det('s1', 0.495, 0.5)]);
    expect(events(1_000, z, [det('s1', 0.505, 0.5)])).toEqual([ev('cross_ab', 's1', 1_000, gate)]);
    expect(events(2_000, z, [det('s1', 0.495, 0.5)])).toEqual([ev('cross_ba', 's1', 2_000, gate)]);
    expect(at(10_000, z, [det('s1', 0.505, 0.5)])).toEqual({
      events: [],
      notices: [notice('s1', 10_000, gate)],
      occupancy: [{ zoneId: 'zone_gate', count: 0 }],
    });
    expect(events(11_000, z, [det('s1', 0.495, 0.5)])).toEqual([]);
    expect(events(12_000, z, [det('s1', 0.3, 0.5)])).toEqual([]); // moved (unsuppressed), same side
    expect(events(13_000, z, [det('s1', 0.7, 0.5)])).toEqual([ev('cross_ab', 's1', 13_000, gate)]);
  });
});

describe('ZoneEngine — timeout', () => {
  it('drops a state unseen for longer than the timeout and synthesizes an exit (label "") for an inside one', () => {
    const z = [zone()];
    events(0, z, [det('t1', ...IN)]);
    expect(events(100, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 100)]);
    expect(at(120_100, z, [])).toEqual({
      events: [],
      notices: [],
      occupancy: [{ zoneId: 'zone_door', count: 1 }],
    });
    expect(at(120_101, z, [])).toEqual({
      events: [ev('exit', 't1', 120_101, { label: '' })],
      notices: [],
      occupancy: [{ zoneId: 'zone_door', count: 0 }],
    });
    expect(events(130_000, z, [])).toEqual([]);
    // The state is gone: the track starts over (debounce from scratch).
    expect(events(130_100, z, [det('t1', ...IN)])).toEqual([]);
    expect(events(130_200, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 130_200)]);
  });

  it('synthesizes nothing for a state that was outside (or only pending an enter)', () => {
    const z = [zone()];
    events(0, z, [det('out', ...OUT), det('pending', ...IN)]);
    expect(events(120_001, z, [])).toEqual([]);
    expect(events(120_002, z, [det('pending', ...IN)])).toEqual([]);
  });

  it('sweeps within the batch that finds the stale state, after its own events', () => {
    const z = [zone({ confirmFrames: 1 })];
    events(0, z, [det('old', ...IN)]);
    expect(events(120_001, z, [det('new', ...IN)])).toEqual([
      ev('enter', 'new', 120_001),
      ev('exit', 'old', 120_001, { label: '' }),
    ]);
  });

  it('honours the trackTimeoutMs option', () => {
    const short = new ZoneEngine(clock, { trackTimeoutMs: 5_000 });
    const z = [zone({ confirmFrames: 1 })];
    clock.t = T0;
    short.process('cam1', z, [det('t1', ...IN)]);
    clock.t = T0 + 5_000;
    expect(short.process('cam1', z, []).events).toEqual([]);
    clock.t = T0 + 5_001;
    expect(short.process('cam1', z, []).events).toEqual([ev('exit', 't1', 5_001, { label: '' })]);
  });

  it('names a synthesized exit after the zone as last passed in (rename)', () => {
    events(0, [zone({ confirmFrames: 1 })], [det('t1', ...IN)]);
    events(60_000, [zone({ confirmFrames: 1, name: 'Front door' })], []);
    expect(events(120_001, [zone({ confirmFrames: 1, name: 'Front door' })], [])).toEqual([
      ev('exit', 't1', 120_001, { label: '', zoneName: 'Front door' }),
    ]);
  });

  it('times out states of a zone that is no longer passed in (disabled) with an exit', () => {
    events(0, [zone({ confirmFrames: 1 })], [det('t1', ...IN)]);
    expect(events(60_000, [zone({ confirmFrames: 1, enabled: false })], [det('t1', ...IN)])).toEqual([]);
    expect(events(120_001, [], [])).toEqual([ev('exit', 't1', 120_001, { label: '' })]);
  });

  describe('per camera', () => {
    const doorA = zone({ confirmFrames: 1 });
    const doorB = zone({ id: 'zone_b', cameraId: 'cam2', name: 'B door', confirmFrames: 1 });
    const onB = { cameraId: 'cam2', zoneId: 'zone_b', zoneName: 'B door' };

    it("never times out camera A's tracks from camera B's batches", () => {
      expect(events(0, [doorA], [det('a1', ...IN)], 'cam1')).toEqual([ev('enter', 'a1', 0)]);
      // Camera B posts every 10 s for 300 s; camera A is last seen at t = 100 s.
      const fromB: ZoneEngineEvent[] = [];
      for (let ms = 10_000; ms <= 300_000; ms += 10_000) {
        fromB.push(...events(ms, [doorB], [det('b1', ...IN)], 'cam2'));
        if (ms === 100_000) expect(events(ms, [doorA], [det('a1', ...IN)], 'cam1')).toEqual([]);
      }
      // B's batches past A's timeout (t > 220 s) carried no exit for A, under either camera.
      expect(fromB).toEqual([ev('enter', 'b1', 10_000, onB)]);
      // A's own batch sweeps A: the exit is A's.
      expect(events(300_000, [doorA], [], 'cam1')).toEqual([ev('exit', 'a1', 300_000, { label: '' })]);
      expect(engine.sweepAll()).toEqual([]);
    });

    it('sweep(cameraId) sweeps only that camera; sweepAll attributes each exit to its own camera', () => {
      events(0, [doorA], [det('a1', ...IN)], 'cam1');
      events(0, [doorB], [det('b1', ...IN)], 'cam2');
      events(10_000, [doorB], [det('b2', ...IN)], 'cam2');
      clock.t = T0 + 120_001;
      expect(engine.sweep('cam2')).toEqual([ev('exit', 'b1', 120_001, { ...onB, label: '' })]);
      expect(engine.sweep('cam_unknown')).toEqual([]);
      clock.t = T0 + 130_001;
      expect(engine.sweepAll()).toEqual([
        ev('exit', 'a1', 130_001, { label: '' }),
        ev('exit', 'b2', 130_001, { ...onB, label: '' }),
      ]);
      expect(engine.sweepAll()).toEqual([]);
    });
  });
});

describe('ZoneEngine — occupancy', () => {
  const door = zone({ confirmFrames: 1 });
  const lobby = zone({
    id: 'zone_lobby',
    name: 'Lobby',
    confirmFrames: 1,
    polygon: [
      [0, 0],
      [0.5, 0],
      [0.5, 0.5],
      [0, 0.5],
    ],
  });
  const gate = lineZone();
  const off = zone({ id: 'zone_off', enabled: false });
  const elsewhere = zone({ id: 'zone_elsewhere', cameraId: 'cam2' });
  const all = [door, lobby, gate, off, elsewhere];

  it('reports every enabled zone of the camera in order, counting tracks inside; zones back at 0 included', () => {
    expect(at(0, all, [det('t1', 0.4, 0.4), det('t2', 0.7, 0.7)])).toEqual({
      events: [
        ev('enter', 't1', 0),
        ev('enter', 't2', 0),
        ev('enter', 't1', 0, { zoneId: 'zone_lobby', zoneName: 'Lobby' }),
      ],
      notices: [],
      occupancy: [
        { zoneId: 'zone_door', count: 2 },
        { zoneId: 'zone_lobby', count: 1 },
        { zoneId: 'zone_gate', count: 0 },
      ],
    });
    expect(at(100, all, [det('t2', 0.95, 0.95)]).occupancy).toEqual([
      { zoneId: 'zone_door', count: 1 },
      { zoneId: 'zone_lobby', count: 1 },
      { zoneId: 'zone_gate', count: 0 },
    ]);
    expect(at(200, all, [det('t1', 0.95, 0.95)]).occupancy).toEqual([
      { zoneId: 'zone_door', count: 0 },
      { zoneId: 'zone_lobby', count: 0 },
      { zoneId: 'zone_gate', count: 0 },
    ]);
  });

  it('reports zeros for a camera with no state and for an empty batch', () => {
    expect(at(0, all, []).occupancy).toEqual([
      { zoneId: 'zone_door', count: 0 },
      { zoneId: 'zone_lobby', count: 0 },
      { zoneId: 'zone_gate', count: 0 },
    ]);
  });

  it('counts by committed membership (a pending flip does not count yet)', () => {
    const z = [zone()];
    expect(at(0, z, [det('t1', ...IN)]).occupancy).toEqual([{ zoneId: 'zone_door', count: 0 }]);
    expect(at(1, z, [det('t1', ...IN)]).occupancy).toEqual([{ zoneId: 'zone_door', count: 1 }]);
    expect(at(2, z, [det('t1', ...OUT)]).occupancy).toEqual([{ zoneId: 'zone_door', count: 1 }]);
  });

  it('occupancy() counts only tracks seen within the timeout, even before a sweep', () => {
    const z = [zone({ confirmFrames: 1 })];
    events(0, z, [det('t1', ...IN)]);
    events(50_000, z, [det('t2', ...IN)]);
    clock.t = T0 + 120_000;
    expect(engine.occupancy('cam1', z)).toEqual([{ zoneId: 'zone_door', count: 2 }]);
    clock.t = T0 + 120_001;
    expect(engine.occupancy('cam1', z)).toEqual([{ zoneId: 'zone_door', count: 1 }]);
    expect(engine.occupancy('cam2', z)).toEqual([]);
    expect(engine.sweep('cam1')).toEqual([ev('exit', 't1', 120_001, { label: '' })]);
    expect(engine.occupancy('cam1', z)).toEqual([{ zoneId: 'zone_door', count: 1 }]);
  });
});

describe('ZoneEngine — forgetting and zone changes', () => {
  it('forgetZone drops its states silently; the track starts over', () => {
    const z = [zone()];
    events(0, z, [det('t1', ...IN)]);
    expect(events(100, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 100)]);
    engine.forgetZone('zone_door');
    clock.t = T0 + 500_000;
    expect(engine.sweepAll()).toEqual([]);
    expect(events(500_000, z, [det('t1', ...IN)])).toEqual([]);
    expect(events(500_100, z, [det('t1', ...IN)])).toEqual([ev('enter', 't1', 500_100)]);
  });

  it('forgetCamera drops that camera only', () => {
    const a = zone({ confirmFrames: 1 });
    const b = zone({ id: 'zone_b', cameraId: 'cam2', name: 'B', confirmFrames: 1 });
    events(0, [a], [det('a1', ...IN)], 'cam1');
    events(0, [b], [det('b1', ...IN)], 'cam2');
    engine.forgetCamera('cam1');
    clock.t = T0 + 120_001;
    expect(engine.sweepAll()).toEqual([
      ev('exit', 'b1', 120_001, { cameraId: 'cam2', zoneId: 'zone_b', zoneName: 'B', label: '' }),
    ]);
  });

  it('re-evaluates against a changed polygon passed as a new definition object', () => {
    events(0, [zone()], [det('t1', ...IN)]);
    expect(events(100, [zone()], [det('t1', ...IN)])).toEqual([ev('enter', 't1', 100)]);
    // Same content, new object: still inside.
    expect(events(200, [zone()], [det('t1', ...IN)])).toEqual([]);
    const moved = zone({
      polygon: [
        [0.6, 0.6],
        [0.9, 0.6],
        [0.9, 0.9],
        [0.6, 0.9],
      ],
    });
    expect(events(300, [moved], [det('t1', ...IN)])).toEqual([]);
    expect(events(400, [moved], [det('t1', ...IN)])).toEqual([ev('exit', 't1', 400)]);
    expect(events(500, [zone({ labels: ['car'], confirmFrames: 1 })], [det('t2', ...IN)])).toEqual([]);
  });

  it('never treats a degenerate region polygon as inside', () => {
    const z = [
      zone({
        confirmFrames: 1,
        polygon: [
          [0, 0],
          [1, 1],
        ],
      }),
    ];
    expect(at(0, z, [det('t1', 0.5, 0.5)]).events).toEqual([]);
  });
});

describe('ZoneEngine — membership agrees with pointInPolygon', () => {
  /** One fresh track per point, confirmFrames 1: entered ⇔ pointInPolygon. */
  function entered(polygon: Array<[number, number]>, points: Array<[number, number]>): boolean[] {
    const e = new ZoneEngine(new FakeClock());
    const out = e.process(
      'cam1',
      [zone({ confirmFrames: 1, polygon })],
      points.map(([x, y], i) => det(`t${i}`, x, y)),
    );
    const ids = new Set(out.events.map((e) => e.trackId));
    return points.map((_, i) => ids.has(`t${i}`));
  }

  it('on random polygons and points (grid coordinates, so points land on edges and vertices)', () => {
    const coord = fc.integer({ min: 0, max: 8 }).map((i) => i / 8);
    const point = fc.tuple(coord, coord);
    fc.assert(
      fc.property(
        fc.array(point, { minLength: 3, maxLength: 8 }),
        fc.array(point, { minLength: 1, maxLength: 30 }),
        (polygon, points) => {
          expect(entered(polygon, points)).toEqual(
            points.map(([x, y]) => pointInPolygon([clampToFrame(x), clampToFrame(y)], polygon)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('on random polygons and points (arbitrary doubles)', () => {
    const coord = fc.double({ min: -0.5, max: 1.5, noNaN: true });
    const point = fc.tuple(coord, coord);
    fc.assert(
      fc.property(
        fc.array(point, { minLength: 3, maxLength: 12 }),
        fc.array(point, { minLength: 1, maxLength: 30 }),
        (polygon, points) => {
          expect(entered(polygon, points)).toEqual(
            points.map(([x, y]) => pointInPolygon([clampToFrame(x), clampToFrame(y)], polygon)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('objects at the frame edge', () => {
  it('a track standing on the bottom edge of the image enters a whole-frame zone', () => {
    const whole = [zone({ confirmFrames: 1, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] })]; // prettier-ignore
    // bbox [0.4, 0.6, 0.2, 0.4]: its bottom-centre is (0.5, 1.0), on the image's bottom edge.
    expect(events(0, whole, [det('t_edge', 0.4, 0.6, { bbox: [0.4, 0.6, 0.2, 0.4] })])).toEqual([
      ev('enter', 't_edge', 0),
    ]);
  });
});
