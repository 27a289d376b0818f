import { invalidationPayload, parseInvalidation } from './cache-invalidation';

describe('invalidationPayload', () => {
  it('carries the origin, the scope and the keys; parsed back as sent', () => {
    const p = invalidationPayload({ origin: 'n1', scope: 'zones', keys: { camera: 'cam_1', zone: 'zone_2' } });
    expect(JSON.parse(p)).toEqual({ o: 'n1', s: 'zones', k: { camera: 'cam_1', zone: 'zone_2' } });
    expect(parseInvalidation(p)).toEqual({ origin: 'n1', scope: 'zones', keys: { camera: 'cam_1', zone: 'zone_2' } });
  });

  it('names the whole scope when the keys would not fit in one notification (PostgreSQL: < 8000 bytes)', () => {
    const p = invalidationPayload({ origin: 'n1', scope: 'sites', keys: { site: 'x'.repeat(9000) } });
    expect(p.length).toBeLessThan(8000);
    expect(parseInvalidation(p)).toEqual({ origin: 'n1', scope: 'sites', keys: null });
  });
});

describe('parseInvalidation', () => {
  it.each([
    ['{"o":"a","s":"zones","k":{}}', { origin: 'a', scope: 'zones', keys: {} }],
    ['{"o":"a","s":"recording_schedules","k":{"camera":"c"}}', { origin: 'a', scope: 'recording_schedules', keys: { camera: 'c' } }],
    ['{"o":"a","s":"sites","k":null}', { origin: 'a', scope: 'sites', keys: null }],
    ['', null],
    ['12', null],
    ['null', null],
    ['[]', null],
    ['not json', null],
    ['{"s":"zones","k":{}}', null],
    ['{"o":"","s":"zones","k":{}}', null],
    ['{"o":"a","k":{}}', null],
    ['{"o":"a","s":"Zones","k":{}}', null],
    ['{"o":"a","s":"zones; DROP","k":{}}', null],
    ['{"o":"a","s":"zones"}', null],
    ['{"o":"a","s":"zones","k":[]}', null],
    ['{"o":"a","s":"zones","k":{"camera":1}}', null],
    ['{"o":"a","s":"zones","k":"camera"}', null],
  ])('%p → %p', (payload, expected) => {
    expect(parseInvalidation(payload)).toEqual(expected);
  });
});
