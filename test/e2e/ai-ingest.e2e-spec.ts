import { EventsModule } from '../../src/events/events.module';
import { Injectable, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import {
  DETECTION_CONSUMERS,
  type DetectionBatch,
  type DetectionConsumer,
} from '../../src/ai/detection-consumer';
import { FanoutService } from '../../src/ai/fanout.service';
import { EventBus } from '../../src/events/event-bus';
import { EventsService } from '../../src/events/events.service';
import { rawQuery, startTestApp, type TestApp, withClockAhead } from '../support/test-app';
import { createTestStore, ENGINE } from '../support/test-db';

/** A real consumer registered the way any module would: it records what it is handed. */
@Injectable()
class RecordingConsumer implements DetectionConsumer {
  readonly name = 'recorder_test';
  readonly seen: DetectionBatch[] = [];
  failNext = 0;
  interestedIn(taskType: string): boolean {
    return taskType === 'object_detection';
  }
  async consume(batch: DetectionBatch): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('consumer down');
    }
    this.seen.push(batch);
    await Promise.resolve();
  }
}

/** A transactional consumer (store writes only): it emits a kernel event per batch, then may fail. */
@Injectable()
class WritingConsumer implements DetectionConsumer {
  readonly name = 'writer_test';
  readonly transactional = true;
  failNext = 0;
  constructor(private readonly events: EventsService) {}
  interestedIn(taskType: string): boolean {
    return taskType === 'tx_task';
  }
  async consume(batch: DetectionBatch): Promise<void> {
    await this.events.emitExternal({
      type: 'writer_consumed',
      cameraId: batch.cameraId,
      payload: { frame: batch.frameKey },
    });
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('consumer down after writing');
    }
  }
}

@Module({ providers: [RecordingConsumer, { provide: DETECTION_CONSUMERS, useExisting: RecordingConsumer }] })
class RecordingConsumerModule {}

// A consumer module imports what it uses (EventsModule is not global).
@Module({
  imports: [EventsModule],
  providers: [WritingConsumer, { provide: DETECTION_CONSUMERS, useExisting: WritingConsumer }],
})
class WritingConsumerModule {}

@Injectable()
class Impostor implements DetectionConsumer {
  readonly name = 'recorder_test';
  interestedIn(): boolean {
    return true;
  }
  async consume(): Promise<void> {}
}
@Module({ providers: [Impostor, { provide: DETECTION_CONSUMERS, useExisting: Impostor }] })
class ImpostorModule {}

const batch = (frame: string | undefined, n = 2, extra: Record<string, unknown> = {}) => ({
  camera_id: 'ai1',
  task_type: 'object_detection',
  ...(frame ? { frame_id: frame } : {}),
  detections: Array.from({ length: n }, (_, i) => ({
    label: 'person',
    confidence: 0.9,
    bbox: [0.1 * i, 0.2, 0.1, 0.3],
    track_id: i + 1,
    attributes: { color: 'red', source: 'forged', _prov: 'forged' },
  })),
  ...extra,
});

/** A worker timestamp an hour ahead: newer than every batch stamped with the server's now. */
const LATER_MS = Math.floor(Date.now() / 1000) * 1000 + 3_600_000;
const LATER = new Date(LATER_MS).toISOString();
const iso = (offsetMs: number) => new Date(LATER_MS + offsetMs).toISOString();

describe(`AI ingest (${ENGINE})`, () => {
  let t: TestApp;
  let consumer: RecordingConsumer;

  beforeAll(async () => {
    t = await startTestApp({ extraModules: [RecordingConsumerModule, WritingConsumerModule] });
    consumer = t.app.get(RecordingConsumer);
    await t.http().post('/api/v1/cameras').send({ id: 'ai1', name: 'AI one' }).expect(201);
    await t.http().post('/api/v1/cameras').send({ id: 'ai2', name: 'AI two' }).expect(201);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('concurrent ingests share commits: an invalid one is a 400, a replayed frame a duplicate, every other one stored whole', async () => {
    const bodies = [
      ...Array.from({ length: 12 }, (_, i) => batch(`gc-${i}`, 4)),
      batch('gc-bad', 2, { detections: [{ label: 'person', confidence: 7 }] }),
      batch('gc-3', 4), // the same frame as one above, in the same burst
    ];
    const res = await Promise.all(bodies.map((b) => t.http().post('/api/v1/ai/events').send(b)));
    expect(res.map((r) => r.status)).toEqual([...Array(12).fill(200), 400, 200]);
    expect(res[12].body).toEqual(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    const stored = res.slice(0, 12).map((r) => r.body as { duplicate: boolean });
    // gc-3 went in once: one of its two posts stored it, the other was the duplicate.
    expect([stored[3], res[13].body].filter((b) => (b as { duplicate: boolean }).duplicate)).toHaveLength(1);
    const outbox = await rawQuery(
      t,
      "SELECT frame_id, detection_count, fanned_out_at FROM outbox WHERE frame_id LIKE 'w:gc-%' ORDER BY frame_id",
    );
    expect(outbox.map((o) => o.frame_id).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `w:gc-${i}`).sort(),
    );
    for (const o of outbox)
      expect(o).toEqual(expect.objectContaining({ detection_count: 4, fanned_out_at: expect.any(String) }));
    const dets = await rawQuery(t, "SELECT COUNT(*) AS n FROM detections WHERE frame_id LIKE 'w:gc-%'");
    expect(Number(dets[0].n)).toBe(12 * 4);
    const claims = await rawQuery(
      t,
      "SELECT COUNT(*) AS n FROM consumer_fanout WHERE frame_id LIKE 'w:gc-%' AND consumer = 'recorder_test'",
    );
    expect(Number(claims[0].n)).toBe(12);
  });

  it('stores a batch once: a replay of the same frame is a duplicate that writes nothing', async () => {
    const first = await t.http().post('/api/v1/ai/events').send(batch('f-1', 3)).expect(200);
    expect(first.body).toEqual({ detections_ingested: 3, duplicate: false });
    const again = await t.http().post('/api/v1/ai/events').send(batch('f-1', 3)).expect(200);
    expect(again.body).toEqual({ detections_ingested: 0, duplicate: true });
    const rows = await rawQuery(t, "SELECT COUNT(*) AS n FROM detections WHERE frame_id = 'w:f-1'");
    expect(Number(rows[0].n)).toBe(3);
    expect(
      await rawQuery(t, "SELECT detection_count, fanned_out_at FROM outbox WHERE frame_id = 'w:f-1'"),
    ).toEqual([expect.objectContaining({ detection_count: 3, fanned_out_at: expect.any(String) })]);
    // The same frame id on another camera is another frame.
    await t
      .http()
      .post('/api/v1/ai/events')
      .send({ ...batch('f-1', 1), camera_id: 'ai2' })
      .expect(200, { detections_ingested: 1, duplicate: false });
  });

  it('stamps provenance server-side and serves detections newest first with filters', async () => {
    await t
      .http()
      .post('/api/v1/ai/events')
      .send(batch('f-2', 2, { timestamp: LATER }))
      .expect(200);
    const list = (await t.http().get('/api/v1/cameras/ai1/detections?limit=2').expect(200)).body;
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({
      camera_id: 'ai1',
      task_type: 'object_detection',
      label: 'person',
      frame_id: 'f-2',
      timestamp: LATER,
    });
    expect(list[0].attributes).toEqual({
      color: 'red',
      source: 'worker',
      _prov: { key: 'system', task: 'object_detection' },
    });
    expect(list[0].track_id).toMatch(/^[12]$/);
    const windowed = (
      await t
        .http()
        .get(`/api/v1/cameras/ai1/detections?from=${iso(-60_000)}&to=${iso(60_000)}`)
        .expect(200)
    ).body;
    expect(windowed).toHaveLength(2);
    expect((await t.http().get('/api/v1/cameras/ai1/detections?label=car').expect(200)).body).toEqual([]);
    const wrapped = await t
      .http()
      .post('/api/v1/ai/events')
      .send({
        camera_id: 'ai2',
        task_type: 'x',
        frame_id: 'w1',
        detections: [{ label: 'a', attributes: 'plain text' }],
      })
      .expect(200);
    expect(wrapped.body.detections_ingested).toBe(1);
    const [d] = (await t.http().get('/api/v1/cameras/ai2/detections?label=a').expect(200)).body;
    expect(d.attributes).toMatchObject({ _client: 'plain text', source: 'worker' });
  });

  it('hands each committed batch to interested consumers exactly once, and records the worker event', async () => {
    const before = consumer.seen.length;
    await t
      .http()
      .post('/api/v1/ai/events')
      .send(
        batch('f-3', 2, { event: { event_type: 'person_counted', severity: 'critical', payload: { n: 2 } } }),
      )
      .expect(200);
    await t.http().post('/api/v1/ai/events').send(batch('f-3', 2)).expect(200); // duplicate: not handed again
    await t
      .http()
      .post('/api/v1/ai/events')
      .send({ ...batch('f-4', 1), task_type: 'anpr' })
      .expect(200); // not interested
    const got = consumer.seen.slice(before);
    expect(got.map((b) => b.frameKey)).toEqual(['w:f-3']);
    expect(got[0]).toMatchObject({
      cameraId: 'ai1',
      taskType: 'object_detection',
      detections: [expect.objectContaining({ trackId: '1', label: 'person' }), expect.anything()],
    });
    const [ev] = (await t.http().get('/api/v1/events?event_type=person_counted').expect(200)).body;
    expect(ev).toMatchObject({
      camera_id: 'ai1',
      severity: 'warning',
      payload: { n: 2, task_type: 'object_detection', frame_id: 'f-3' },
    });
  });

  it('a consumer that fails gets the batch again from the replay loop', async () => {
    consumer.failNext = 1;
    const before = consumer.seen.length;
    await t.http().post('/api/v1/ai/events').send(batch('f-5', 1)).expect(200);
    expect(consumer.seen.length).toBe(before);
    const [pending] = await rawQuery(t, "SELECT fanned_out_at FROM outbox WHERE frame_id = 'w:f-5'");
    expect(pending.fanned_out_at).toBeNull();
    const replayed = await withClockAhead(t, 11_000, () => t.app.get(FanoutService).replay());
    expect(replayed).toBeGreaterThanOrEqual(1);
    expect(consumer.seen.slice(before).map((b) => b.frameKey)).toEqual(['w:f-5']);
    const [done] = await rawQuery(t, "SELECT fanned_out_at FROM outbox WHERE frame_id = 'w:f-5'");
    expect(done.fanned_out_at).not.toBeNull();
    // Nothing left to replay, and a second pass hands nothing twice.
    await withClockAhead(t, 11_000, () => t.app.get(FanoutService).replay());
    expect(consumer.seen.filter((b) => b.frameKey === 'w:f-5')).toHaveLength(1);
  });

  it('a transactional consumer writes in the fan-out commit: when it throws, its writes and claim roll back and are never published; the replay delivers once', async () => {
    const writer = t.app.get(WritingConsumer);
    const published: string[] = [];
    const sub = t.app.get(EventBus).events$.subscribe((e) => {
      if (e.eventType === 'writer_consumed') published.push(String(e.payload.frame));
    });
    try {
      const tx = (frame: string) => ({ ...batch(frame, 1), task_type: 'tx_task' });
      await t.http().post('/api/v1/ai/events').send(tx('tx-ok')).expect(200);
      // Answered after the fan-out's commit: the consumer's event, its claim and fanned_out_at are there.
      expect(published).toEqual(['w:tx-ok']);
      const [ok] = await rawQuery(t, "SELECT fanned_out_at FROM outbox WHERE frame_id = 'w:tx-ok'");
      expect(ok.fanned_out_at).not.toBeNull();

      writer.failNext = 1;
      await t.http().post('/api/v1/ai/events').send(tx('tx-fail')).expect(200);
      const written = async () =>
        (await t.http().get('/api/v1/events?event_type=writer_consumed&limit=100').expect(200)).body.map(
          (e: { payload: { frame: string } }) => e.payload.frame,
        );
      expect(await written()).toEqual(['w:tx-ok']); // the failed consume's event was rolled back
      expect(published).toEqual(['w:tx-ok']); // and never published
      expect(
        await rawQuery(
          t,
          "SELECT consumer FROM consumer_fanout WHERE consumer = 'writer_test' AND frame_id = 'w:tx-fail'",
        ),
      ).toEqual([]);
      const [pending] = await rawQuery(t, "SELECT fanned_out_at FROM outbox WHERE frame_id = 'w:tx-fail'");
      expect(pending.fanned_out_at).toBeNull();

      await withClockAhead(t, 11_000, () => t.app.get(FanoutService).replay());
      await withClockAhead(t, 11_000, () => t.app.get(FanoutService).replay()); // nothing twice
      expect((await written()).sort()).toEqual(['w:tx-fail', 'w:tx-ok']);
      expect(published).toEqual(['w:tx-ok', 'w:tx-fail']);
      const [done] = await rawQuery(t, "SELECT fanned_out_at FROM outbox WHERE frame_id = 'w:tx-fail'");
      expect(done.fanned_out_at).not.toBeNull();
    } finally {
      sub.unsubscribe();
    }
  });

  it('a batch is written and fanned out to transactional consumers in one commit (one transaction per batch, not two)', async () => {
    // Every transaction the kernel opens goes through DataSource.transaction (nested work joins it).
    const spy = jest.spyOn(t.app.get(DataSource), 'transaction');
    try {
      for (const frame of ['one-commit-a', 'one-commit-b', 'one-commit-c'])
        await t
          .http()
          .post('/api/v1/ai/events')
          .send({ ...batch(frame, 2), task_type: 'tx_task' })
          .expect(200);
      expect(spy).toHaveBeenCalledTimes(3);
    } finally {
      spy.mockRestore();
    }
    const rows = await rawQuery(
      t,
      "SELECT frame_id, fanned_out_at FROM outbox WHERE frame_id LIKE 'w:one-commit-%' ORDER BY frame_id",
    );
    expect(rows.map((r) => [r.frame_id, typeof r.fanned_out_at])).toEqual([
      ['w:one-commit-a', 'string'],
      ['w:one-commit-b', 'string'],
      ['w:one-commit-c', 'string'],
    ]);
    const claims = await rawQuery(
      t,
      "SELECT COUNT(*) AS n FROM consumer_fanout WHERE consumer = 'writer_test' AND frame_id LIKE 'w:one-commit-%'",
    );
    expect(Number(claims[0].n)).toBe(3);
  });

  it('refuses bad input with a clear 4xx and keeps serving', async () => {
    const cases: Array<[unknown, RegExp | number]> = [
      [{ task_type: 'x' }, /camera_id is required/],
      [{ camera_id: 'ai1' }, /task_type is required/],
      [{ camera_id: 'ai1', task_type: 'x', detections: 'many' }, /detections must be an array/],
      [
        { camera_id: 'ai1', task_type: 'x', detections: Array.from({ length: 1001 }, () => ({})) },
        /at most 1000/,
      ],
      [
        { camera_id: 'ai1', task_type: 'x', detections: [{ confidence: 7 }] },
        /confidence must be a number from 0 to 1/,
      ],
      [{ camera_id: 'ai1', task_type: 'x', detections: [{ bbox: [0, 0, 1] }] }, /bbox must be/],
      [{ camera_id: 'ai1', task_type: 'x', detections: [{ bbox: [0, 0, 1, 'NaN'] }] }, /bbox must be/],
      [{ camera_id: 'ai1', task_type: 'x', timestamp: 'yesterday' }, /timestamp/],
      [{ camera_id: 'ai1', task_type: 'x', event: { event_type: 'zone_enter' } }, /kernel prefix/],
      [{ camera_id: 'ai1', task_type: 'x', event: { event_type: 'Bad Type' } }, /event_type must match/],
      [{ camera_id: 'ai1', task_type: 'x', surprise: 1 }, /surprise should not exist/],
      [[1, 2], /JSON object/],
    ];
    for (const [body, why] of cases) {
      const res = await t
        .http()
        .post('/api/v1/ai/events')
        .send(body as object)
        .expect(400);
      expect({ body, error: res.body.error }).toEqual({ body, error: expect.stringMatching(why as RegExp) });
    }
    // A worker cannot pose as the kernel: every registered type and its family are refused.
    for (const event_type of [
      'storage_error',
      'recorder_error',
      'camera_offline',
      'storage_full',
      'webhook_test',
      'system_notice',
    ]) {
      const res = await t
        .http()
        .post('/api/v1/ai/events')
        .send({ camera_id: 'ai1', task_type: 'x', event: { event_type } })
        .expect(400);
      expect({ event_type, code: res.body.code, error: res.body.error }).toEqual({
        event_type,
        code: 'RESERVED_EVENT_TYPE',
        error: expect.stringMatching(/must not be a kernel event type or use a kernel prefix/),
      });
    }
    expect(
      (await t.http().get('/api/v1/events?event_type=storage_*').expect(200)).body.filter(
        (e: { camera_id: string | null }) => e.camera_id === 'ai1',
      ),
    ).toEqual([]);
    const missing = await t
      .http()
      .post('/api/v1/ai/events')
      .send({ camera_id: 'nope', task_type: 'x' })
      .expect(404);
    expect(missing.body.code).toBe('CAMERA_NOT_FOUND');
    const malformed = await t
      .http()
      .post('/api/v1/ai/events')
      .set('Content-Type', 'application/json')
      .send('{"camera_id":')
      .expect(400);
    expect(malformed.body.code).toBe('INVALID_JSON');
    const huge = await t
      .http()
      .post('/api/v1/ai/events')
      .set('Content-Type', 'application/json')
      .send(`{"pad":"${'x'.repeat(9 * 1024 * 1024)}"}`)
      .expect(413);
    expect(huge.body.code).toBe('PAYLOAD_TOO_LARGE');
    // A large but legal batch (1000 detections with attributes, well over 1 MiB) is accepted.
    const big = batch('f-big', 1000);
    big.detections.forEach((d) => Object.assign(d.attributes, { note: 'y'.repeat(1200) }));
    await t
      .http()
      .post('/api/v1/ai/events')
      .send(big)
      .expect(200, { detections_ingested: 1000, duplicate: false });
    await t.http().get('/healthz').expect(200);
  });

  it('AI tasks: idempotent create, clamps, update, delete, and discovery shared among a credential’s workers', async () => {
    const a = await t
      .http()
      .post('/api/v1/cameras/ai1/ai-tasks')
      .send({ task_type: 'object_detection', fps: 99, width: 10 })
      .expect(201);
    expect(a.body).toMatchObject({
      task_type: 'object_detection',
      stream_profile: 'sub',
      fps: 30,
      width: 160,
      enabled: true,
    });
    const again = await t
      .http()
      .post('/api/v1/cameras/ai1/ai-tasks')
      .send({ task_type: 'object_detection', fps: 1 })
      .expect(200);
    expect(again.body.id).toBe(a.body.id);
    const b = (
      await t
        .http()
        .post('/api/v1/cameras/ai2/ai-tasks')
        .send({ task_type: 'object_detection', stream_profile: 'main' })
        .expect(201)
    ).body;
    expect(b).toMatchObject({ fps: 5, width: 1280 });
    await t.http().post('/api/v1/cameras/nope/ai-tasks').send({ task_type: 'x' }).expect(404);
    await t.http().post('/api/v1/cameras/ai1/ai-tasks').send({ task_type: 'bad type!' }).expect(400);
    const patched = (await t.http().patch(`/api/v1/ai-tasks/${a.body.id}`).send({ fps: 0.01 }).expect(200))
      .body;
    expect(patched.fps).toBe(0.1);
    expect(
      (await t.http().get('/api/v1/cameras/ai1/ai-tasks').expect(200)).body.map((x: { id: string }) => x.id),
    ).toEqual([a.body.id]);

    const all = (await t.http().get('/api/v1/ai/tasks').expect(200)).body;
    expect(all.map((x: { id: string }) => x.id).sort()).toEqual([a.body.id, b.id].sort());
    expect(all[0].frame_url).toMatch(/^\/api\/v1\/cameras\/ai[12]\/frame\?profile=(sub|main)&task=ai_/);
    const w1 = (await t.http().get('/api/v1/ai/tasks?worker_id=w-1').expect(200)).body;
    expect(w1).toHaveLength(2); // alone: everything
    await t.http().get('/api/v1/ai/tasks?worker_id=w-2').expect(200);
    const again1 = (await t.http().get('/api/v1/ai/tasks?worker_id=w-1').expect(200)).body;
    const again2 = (await t.http().get('/api/v1/ai/tasks?worker_id=w-2').expect(200)).body;
    expect(again1).toHaveLength(1);
    expect(again2).toHaveLength(1);
    expect(again1[0].id).not.toBe(again2[0].id);
    await t.http().get('/api/v1/ai/tasks?worker_id=bad id').expect(400);

    await t.http().delete(`/api/v1/ai-tasks/${b.id}`).expect(204);
    await t.http().delete(`/api/v1/ai-tasks/${b.id}`).expect(404);
    const changed = (await t.http().get('/api/v1/events?event_type=ai_tasks_changed').expect(200)).body;
    expect(changed.length).toBeGreaterThanOrEqual(3);
  });
});

describe(`detection consumers (${ENGINE})`, () => {
  it('boot fails when two consumers share a name', async () => {
    const store = await createTestStore();
    try {
      const app = await createApp(store.config, { extraModules: [RecordingConsumerModule, ImpostorModule] });
      try {
        await expect(app.init()).rejects.toThrow(/two detection consumers are named `recorder_test`/);
      } finally {
        await app.close().catch(() => undefined);
      }
    } finally {
      await store.cleanup();
    }
  });
});
