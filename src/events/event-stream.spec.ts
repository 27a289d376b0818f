import type { KernelEvent } from './event-bus';
import { type StreamFilter, streamMatches, streamQuery } from './event-stream.service';

const event = (over: Partial<KernelEvent>): KernelEvent => ({
  seq: 1,
  id: 'evt_1',
  cameraId: 'cam1',
  siteId: null,
  eventType: 'camera_offline',
  severity: 'warning',
  timestamp: '2026-12-02T00:00:00.000Z',
  payload: {},
  createdAt: '2026-12-02T00:00:00.000Z',
  ...over,
});

// The stored pages a stream reads ask for what its live half lets through (streamMatches).
describe('streamQuery / streamMatches', () => {
  it.each<[string, StreamFilter, number, number | undefined, object]>([
    [
      'everything',
      { scope: 'all' },
      0,
      undefined,
      { sinceSeq: 0, untilSeq: undefined, cameraIds: undefined },
    ],
    [
      'a scoped reader, up to a horizon',
      { scope: ['cam1', 'cam2'], minSeverity: 'warning' },
      7,
      42,
      { sinceSeq: 7, untilSeq: 42, cameraIds: ['cam1', 'cam2'], minSeverity: 'warning' },
    ],
    [
      'a camera and a type prefix',
      { scope: 'all', cameraId: 'cam1', eventType: 'camera_*' },
      3,
      undefined,
      { cameraId: 'cam1', eventType: 'camera_*', cameraIds: undefined },
    ],
  ])('%s', (_name, filter, since, until, expected) => {
    expect(streamQuery(filter, since, until)).toMatchObject({ ...expected, limit: 500 });
  });

  it.each<[string, StreamFilter, Partial<KernelEvent>, boolean]>([
    ['all', { scope: 'all' }, {}, true],
    ['another camera', { scope: 'all', cameraId: 'cam2' }, {}, false],
    ['out of scope', { scope: ['cam2'] }, {}, false],
    ['camera-less, scoped', { scope: ['cam1'] }, { cameraId: null }, false],
    ['prefix', { scope: 'all', eventType: 'camera_*' }, {}, true],
    ['exact type, other', { scope: 'all', eventType: 'camera' }, {}, false],
    ['below the severity', { scope: 'all', minSeverity: 'critical' }, {}, false],
  ])('streamMatches: %s → %s', (_name, filter, over, expected) => {
    expect(streamMatches(filter, event(over))).toBe(expected);
  });
});
