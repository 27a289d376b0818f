import { BadRequestError } from '../common/errors';
import { KERNEL_EVENT_PREFIXES, KERNEL_EVENT_TYPES } from '../events/event-types';
import { MAX_DETECTIONS, parseIngest, stampAttributes } from './ingest-parse';

const NOW = '2026-01-01T00:00:00.000Z';
const withEvent = (event_type: string) =>
  parseIngest({ camera_id: 'cam_a', task_type: 'x', event: { event_type } }, NOW);

/** The error `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('parseIngest: a worker event cannot pose as a kernel event', () => {
  it.each([...Object.keys(KERNEL_EVENT_TYPES), ...KERNEL_EVENT_PREFIXES.map((p) => `${p}from_a_worker`)])(
    '%s is refused with a 400 naming the rule',
    (type) => {
      const err = thrown(() => withEvent(type));
      expect(err).toBeInstanceOf(BadRequestError);
      expect(err).toMatchObject({
        code: 'RESERVED_EVENT_TYPE',
        message: expect.stringMatching(/must not be a kernel event type or use a kernel prefix: `/),
      });
    },
  );

  it.each(['person_counted', 'motion', 'door_open'])('%s is accepted', (type) => {
    expect(withEvent(type).event).toMatchObject({ eventType: type, severity: 'info' });
  });
});

const BASE = { camera_id: 'cam_a', task_type: 'detect' };

describe('parseIngest: a valid body', () => {
  it('defaults: no timestamp is now, no detections is [], no event is null; strings trimmed', () => {
    expect(parseIngest({ camera_id: ' cam_a ', task_type: ' detect ' }, NOW)).toEqual({
      cameraId: 'cam_a',
      taskType: 'detect',
      timestamp: NOW,
      frameId: null,
      detections: [],
      event: null,
    });
  });

  it.each([
    [
      'an RFC 3339 time with an offset, normalised to UTC',
      '2026-03-01T12:00:00+02:00',
      '2026-03-01T10:00:00.000Z',
    ],
    ['a UTC time', '2026-03-01T10:00:00.5Z', '2026-03-01T10:00:00.500Z'],
    ['null (now)', null, NOW],
  ])('timestamp: %s', (_name, timestamp, expected) => {
    expect(parseIngest({ ...BASE, timestamp }, NOW).timestamp).toBe(expected);
  });

  it.each([
    [
      'all fields',
      { label: ' person ', confidence: 0.9, bbox: [1, 2, 3, 4], track_id: 't1', attributes: { c: 'red' } },
      { label: 'person', confidence: 0.9, bbox: [1, 2, 3, 4], trackId: 't1', attributes: { c: 'red' } },
    ],
    [
      'nothing: empty label, nulls, {} attributes',
      {},
      { label: '', confidence: null, bbox: null, trackId: null, attributes: {} },
    ],
    [
      'a numeric track id becomes a string',
      { track_id: 42 },
      { label: '', confidence: null, bbox: null, trackId: '42', attributes: {} },
    ],
    [
      'confidence at its bounds',
      { confidence: 0 },
      { label: '', confidence: 0, bbox: null, trackId: null, attributes: {} },
    ],
    [
      'explicit nulls',
      { confidence: null, bbox: null, track_id: null },
      { label: '', confidence: null, bbox: null, trackId: null, attributes: {} },
    ],
  ])('detection: %s', (_name, det, expected) => {
    expect(parseIngest({ ...BASE, detections: [det] }, NOW).detections).toEqual([expected]);
  });

  it.each([
    ['no severity is info', {}, 'info'],
    ['info stays info', { severity: 'info' }, 'info'],
    ['warning stays warning', { severity: 'warning' }, 'warning'],
    ['critical is clamped to warning', { severity: 'critical' }, 'warning'],
    ['anything else is clamped to warning', { severity: 7 }, 'warning'],
  ])('event severity: %s', (_name, extra, severity) => {
    const r = parseIngest({ ...BASE, event: { event_type: 'door_open', payload: { d: 1 }, ...extra } }, NOW);
    expect(r.event).toEqual({ eventType: 'door_open', severity, payload: { d: 1 } });
  });

  it(`takes ${MAX_DETECTIONS} detections`, () => {
    const detections = Array.from({ length: MAX_DETECTIONS }, () => ({ label: 'x' }));
    expect(parseIngest({ ...BASE, detections }, NOW).detections).toHaveLength(MAX_DETECTIONS);
  });
});

describe('parseIngest: every problem is a 400 VALIDATION_FAILED naming the field', () => {
  const long = (n: number) => 'x'.repeat(n);
  it.each([
    ['not an object', [], 'body must be a JSON object'],
    ['null', null, 'body must be a JSON object'],
    ['an unknown property', { ...BASE, extra: 1 }, 'property extra should not exist'],
    ['no camera_id', { task_type: 'x' }, 'camera_id is required'],
    ['an empty camera_id', { ...BASE, camera_id: '  ' }, 'camera_id must not be empty'],
    ['a numeric camera_id', { ...BASE, camera_id: 5 }, 'camera_id must be a string'],
    [
      'a camera_id over 64 characters',
      { ...BASE, camera_id: long(65) },
      'camera_id must be at most 64 characters',
    ],
    ['no task_type', { camera_id: 'c' }, 'task_type is required'],
    ['a bad timestamp', { ...BASE, timestamp: 'yesterday' }, 'timestamp must be an RFC 3339 timestamp'],
    ['a numeric timestamp', { ...BASE, timestamp: 1700000000 }, 'timestamp must be an RFC 3339 timestamp'],
    [
      'a frame_id over 200 characters',
      { ...BASE, frame_id: long(201) },
      'frame_id must be at most 200 characters',
    ],
    ['detections not an array', { ...BASE, detections: {} }, 'detections must be an array'],
    [
      'too many detections',
      { ...BASE, detections: Array.from({ length: MAX_DETECTIONS + 1 }, () => ({})) },
      `at most ${MAX_DETECTIONS} detections per batch (got ${MAX_DETECTIONS + 1})`,
    ],
    ['a detection not an object', { ...BASE, detections: [{}, 'x'] }, 'detections[1] must be an object'],
    [
      'an unknown detection property',
      { ...BASE, detections: [{ score: 1 }] },
      'detections[0].score should not exist',
    ],
    [
      'confidence above 1',
      { ...BASE, detections: [{ confidence: 1.01 }] },
      'detections[0].confidence must be a number from 0 to 1',
    ],
    [
      'confidence below 0',
      { ...BASE, detections: [{ confidence: -0.1 }] },
      'detections[0].confidence must be a number from 0 to 1',
    ],
    [
      'confidence as a string',
      { ...BASE, detections: [{ confidence: '0.5' }] },
      'detections[0].confidence must be a number from 0 to 1',
    ],
    [
      'a bbox of three numbers',
      { ...BASE, detections: [{ bbox: [1, 2, 3] }] },
      'detections[0].bbox must be [x, y, w, h] of finite numbers',
    ],
    [
      'a bbox with a string',
      { ...BASE, detections: [{ bbox: [1, 2, 3, '4'] }] },
      'detections[0].bbox must be [x, y, w, h] of finite numbers',
    ],
    [
      'a label over 128 characters',
      { ...BASE, detections: [{ label: long(129) }] },
      'detections[0].label must be at most 128 characters',
    ],
    [
      'a track_id object',
      { ...BASE, detections: [{ track_id: {} }] },
      'detections[0].track_id must be a string',
    ],
    ['an event not an object', { ...BASE, event: 'door' }, 'event must be an object'],
    ['an event without a type', { ...BASE, event: {} }, 'event.event_type is required'],
    [
      'an event type with capitals',
      { ...BASE, event: { event_type: 'DoorOpen' } },
      'event.event_type must match ^[a-z0-9_]{1,64}$',
    ],
    [
      'an event payload array',
      { ...BASE, event: { event_type: 'door_open', payload: [] } },
      'event.payload must be an object',
    ],
  ])('%s', (_name, body, message) => {
    const err = thrown(() => parseIngest(body, NOW));
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message });
  });
});

describe("stampAttributes: provenance is the server's", () => {
  const prov = { key: 'key_1', task: 'task_1' };
  it.each([
    ['an object keeps its fields', { color: 'red' }, { color: 'red', source: 'worker', _prov: prov }],
    [
      'a client source and _prov are replaced',
      { source: 'kernel', _prov: { key: 'forged' }, n: 1 },
      { n: 1, source: 'worker', _prov: prov },
    ],
    ['a string is wrapped', 'blue', { _client: 'blue', source: 'worker', _prov: prov }],
    ['an array is wrapped', [1, 2], { _client: [1, 2], source: 'worker', _prov: prov }],
    ['null is wrapped', null, { _client: null, source: 'worker', _prov: prov }],
  ])('%s', (_name, attributes, expected) => {
    expect(stampAttributes(attributes, prov)).toEqual(expected);
  });

  it('does not change the object it was given', () => {
    const given = { source: 'x' };
    stampAttributes(given, prov);
    expect(given).toEqual({ source: 'x' });
  });
});
