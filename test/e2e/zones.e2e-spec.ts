import { startTestApp, type TestApp } from '../support/test-app';
import { ENGINE } from '../support/test-db';

/** A person whose feet (bottom-centre of the bbox) stand at (x, y). */
const at = (frame: string, track: number, x: number, y: number) => ({
  camera_id: 'z1',
  task_type: 'object_detection',
  frame_id: frame,
  detections: [{ label: 'person', confidence: 0.9, track_id: track, bbox: [x - 0.05, y - 0.2, 0.1, 0.2] }],
});

describe(`zones and the zone engine (${ENGINE})`, () => {
  let t: TestApp;
  let n = 0;
  const post = (x: number, y: number, track = 1) =>
    t
      .http()
      .post('/api/v1/ai/events')
      .send(at(`f${n++}`, track, x, y))
      .expect(200);

  beforeAll(async () => {
    t = await startTestApp();
    await t.http().post('/api/v1/cameras').send({ id: 'z1', name: 'Zones' }).expect(201);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('validates zones and is idempotent by name', async () => {
    const bad: Array<[object, RegExp]> = [
      [
        {
          name: 'l',
          kind: 'line',
          polygon: [
            [0, 0],
            [1, 1],
            [0, 1],
          ],
        },
        /exactly 2 points/,
      ],
      [
        {
          name: 'r',
          polygon: [
            [0, 0],
            [1, 1],
          ],
        },
        /3 to 512 points/,
      ],
      [
        {
          name: 'r',
          polygon: [
            [0, 0],
            [2, 1],
            [0, 1],
          ],
        },
        /polygon\[1\]/,
      ],
      [
        {
          name: 'r',
          polygon: [
            [0, 0],
            [1, 1],
            [0, 1],
          ],
          config: { speed: 3 },
        },
        /config.speed is not a zone setting/,
      ],
      [
        {
          name: 'r',
          polygon: [
            [0, 0],
            [1, 1],
            [0, 1],
          ],
          config: { direction: 'up' },
        },
        /config.direction has an invalid value/,
      ],
      [
        {
          name: 'r',
          polygon: [
            [0, 0],
            [1, 1],
            [0, 1],
          ],
          severity: 'loud',
        },
        /severity/,
      ],
    ];
    for (const [body, why] of bad) {
      expect((await t.http().post('/api/v1/cameras/z1/zones').send(body).expect(400)).body.error).toMatch(
        why,
      );
    }
    await t
      .http()
      .post('/api/v1/cameras/nope/zones')
      .send({
        name: 'x',
        polygon: [
          [0, 0],
          [1, 1],
          [0, 1],
        ],
      })
      .expect(404);
  });

  it('enter after confirm_frames, label filter, exit; zone events, kernel events, occupancy, aggregates', async () => {
    const left = [
      [0, 0],
      [0.5, 0],
      [0.5, 1],
      [0, 1],
    ];
    const created = await t
      .http()
      .post('/api/v1/cameras/z1/zones')
      .send({
        name: 'Left',
        polygon: left,
        severity: 'warning',
        labels: ['person'],
        config: { confirm_frames: 2 },
      })
      .expect(201);
    const again = await t
      .http()
      .post('/api/v1/cameras/z1/zones')
      .send({ name: 'Left', polygon: left })
      .expect(200);
    expect(again.body.id).toBe(created.body.id);

    await post(0.8, 0.5); // outside
    await post(0.3, 0.5); // inside, first frame: debounce
    expect((await t.http().get('/api/v1/cameras/z1/zone-events').expect(200)).body).toEqual([]);
    await post(0.3, 0.6); // second frame inside: enter
    const [enter] = (await t.http().get('/api/v1/cameras/z1/zone-events').expect(200)).body;
    expect(enter).toMatchObject({
      zone_id: created.body.id,
      zone_name: 'Left',
      event_type: 'enter',
      track_id: '1',
      label: 'person',
    });
    const [kernel] = (await t.http().get('/api/v1/events?event_type=zone_enter').expect(200)).body;
    expect(kernel).toMatchObject({
      camera_id: 'z1',
      severity: 'warning',
      payload: expect.objectContaining({ zone_id: created.body.id, track_id: '1' }),
    });
    expect((await t.http().get('/api/v1/cameras/z1/zones/occupancy').expect(200)).body.zones).toEqual([
      expect.objectContaining({ zone_id: created.body.id, count: 1 }),
    ]);
    // A car never counts in a person-only zone.
    await t
      .http()
      .post('/api/v1/ai/events')
      .send({
        ...at(`f${n++}`, 9, 0.2, 0.5),
        detections: [{ label: 'car', confidence: 0.9, track_id: 9, bbox: [0.15, 0.3, 0.1, 0.2] }],
      })
      .expect(200);
    await t
      .http()
      .post('/api/v1/ai/events')
      .send({
        ...at(`f${n++}`, 9, 0.2, 0.5),
        detections: [{ label: 'car', confidence: 0.9, track_id: 9, bbox: [0.15, 0.3, 0.1, 0.2] }],
      })
      .expect(200);
    await post(0.8, 0.5);
    await post(0.8, 0.5); // two frames outside: exit
    const types = (await t.http().get('/api/v1/cameras/z1/zone-events').expect(200)).body.map(
      (e: { event_type: string }) => e.event_type,
    );
    expect(types).toEqual(['exit', 'enter']);
    expect((await t.http().get('/api/v1/cameras/z1/zones/occupancy').expect(200)).body.zones[0].count).toBe(
      0,
    );
    const agg = (
      await t.http().get('/api/v1/cameras/z1/zone-events/aggregates?bucket_minutes=60').expect(200)
    ).body;
    expect(
      agg.buckets.map((b: { event_type: string; count: number }) => [b.event_type, b.count]).sort(),
    ).toEqual([
      ['enter', 1],
      ['exit', 1],
    ]);
    await t.http().patch(`/api/v1/zones/${created.body.id}`).send({ enabled: false }).expect(200);
  });

  it('a line zone reports directional crossings', async () => {
    const line = (
      await t
        .http()
        .post('/api/v1/cameras/z1/zones')
        .send({
          name: 'Door',
          kind: 'line',
          polygon: [
            [0.5, 0],
            [0.5, 1],
          ],
        })
        .expect(201)
    ).body;
    await post(0.3, 0.5, 7);
    await post(0.7, 0.5, 7); // crosses left → right
    await post(0.3, 0.5, 7); // and back
    const crossings = (
      await t.http().get(`/api/v1/cameras/z1/zone-events?zone_id=${line.id}`).expect(200)
    ).body.map((e: { event_type: string }) => e.event_type);
    expect(crossings.sort()).toEqual(['cross_ab', 'cross_ba']);
    await t
      .http()
      .patch(`/api/v1/zones/${line.id}`)
      .send({
        polygon: [
          [0, 0],
          [1, 1],
          [0, 1],
        ],
      })
      .expect(400); // still a line
    await t.http().delete(`/api/v1/zones/${line.id}`).expect(204);
    await t.http().delete(`/api/v1/zones/${line.id}`).expect(404);
  });
});
