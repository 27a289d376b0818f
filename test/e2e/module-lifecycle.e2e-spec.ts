import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SidecarsService } from '../../src/sidecars/sidecars.service';
import { RecorderService } from '../../src/recorder/recorder.service';
import { startTestApp, type TestApp, waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

interface ModuleRow {
  id: string;
  kind: string;
  state: string;
  reason: string | null;
  since: string | null;
}

async function modulesOf(t: TestApp): Promise<Record<string, ModuleRow>> {
  const body = (await t.http().get('/api/v1/system/modules').expect(200)).body as ModuleRow[];
  expect(body.map((m) => m.id)).toEqual(body.map((m) => m.id).sort()); // ordered by id
  return Object.fromEntries(body.map((m) => [m.id, m]));
}

async function stateChanges(t: TestApp): Promise<Array<Record<string, unknown>>> {
  const body = (await t.http().get('/api/v1/events?event_type=module_state_changed').expect(200))
    .body as Array<{
    payload: Record<string, unknown>;
  }>;
  return body.map((e) => e.payload);
}

describe(`module lifecycle in the registry (${ENGINE})`, () => {
  it('HELDAR_FFMPEG_BIN=/nonexistent: the kernel boots and serves, the recorder is failed with the reason', async () => {
    const t = await startTestApp({
      env: { HELDAR_RECORDER_ENABLED: 'true', HELDAR_FFMPEG_BIN: '/nonexistent' },
    });
    try {
      expect((await t.http().get('/healthz').expect(200)).body).toEqual({ status: 'ok' });
      await t.http().get('/readyz').expect(200);
      const mods = await modulesOf(t);
      expect(mods.recorder).toMatchObject({
        kind: 'builtin',
        state: 'failed',
        reason: 'ffmpeg (/nonexistent) cannot be started (ENOENT)',
      });
      expect(Date.parse(mods.recorder.since!)).not.toBeNaN();
      expect(mods.cameras).toMatchObject({ state: 'running', reason: null });
      expect(await stateChanges(t)).toEqual([
        expect.objectContaining({ module_id: 'recorder', state: 'failed', reason: mods.recorder.reason }),
      ]);
      // The API keeps working; a camera that should record says why it is not.
      await t
        .http()
        .post('/api/v1/cameras')
        .send({ name: 'Yard', main_stream_url: 'rtsp://127.0.0.1:9/stream' })
        .expect(201);
      await t.app.get(RecorderService).settled();
      const health = (await t.http().get('/api/v1/cameras/yard/health').expect(200)).body;
      expect(health).toMatchObject({
        state: 'error',
        pid: null,
        last_error: 'the recorder cannot start: ffmpeg (/nonexistent) cannot be started (ENOENT)',
      });
    } finally {
      await t.close();
    }
  });

  it('a recordings directory that cannot be written: recorder failed, then running again once it can', async () => {
    const base = join(tmpdir(), `heldar-rec-${process.pid}-${Date.now()}`);
    writeFileSync(base, 'a file where the recordings directory should be');
    const t = await startTestApp({
      env: {
        HELDAR_RECORDER_ENABLED: 'true',
        HELDAR_RECORDINGS_DIR: join(base, 'recordings'),
        HELDAR_HEALTH_INTERVAL_S: '3600', // the test drives the checks
      },
    });
    try {
      const failed = (await modulesOf(t)).recorder;
      expect(failed).toMatchObject({ state: 'failed' });
      expect(failed.reason).toBe(
        `the recordings directory ${join(base, 'recordings')} is not writable (ENOTDIR)`,
      );
      await t.http().get('/api/v1/cameras').expect(200);

      rmSync(base);
      mkdirSync(base);
      await t.app.get(RecorderService).checkHealth();
      const back = (await modulesOf(t)).recorder;
      expect(back).toMatchObject({ state: 'running', reason: null });
      expect(back.since! > failed.since!).toBe(true);
      expect(await stateChanges(t)).toEqual([
        expect.objectContaining({ module_id: 'recorder', previous_state: 'failed', state: 'running' }),
        expect.objectContaining({ module_id: 'recorder', state: 'failed' }),
      ]);
    } finally {
      await t.close();
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('a sidecar gets a record that follows its health probe: running, failed when its server stops, stopped on unregister', async () => {
    let server: Server = createServer((_req, res) => res.writeHead(200).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const t = await startTestApp({ env: { HELDAR_MODULE_HEALTH_INTERVAL_S: '3600' } });
    try {
      await t
        .http()
        .post('/api/v1/modules')
        .send({ id: 'counter', name: 'People counter', base_url: `http://127.0.0.1:${port}` })
        .expect(201);
      expect((await modulesOf(t)).counter).toMatchObject({ kind: 'sidecar', state: 'loaded', reason: null });

      const modules = t.app.get(SidecarsService);
      await modules.probeAll();
      expect((await modulesOf(t)).counter).toMatchObject({ state: 'running', reason: null });

      await new Promise<void>((r) => server.close(() => r()));
      await modules.probeAll();
      const down = (await modulesOf(t)).counter;
      expect(down).toMatchObject({ kind: 'sidecar', state: 'failed' });
      expect(down.reason).toMatch(/ECONNREFUSED/);
      const changes = await stateChanges(t);
      expect(changes[0]).toMatchObject({
        module_id: 'counter',
        kind: 'sidecar',
        previous_state: 'running',
        state: 'failed',
        reason: down.reason,
      });
      const [event] = (await t.http().get('/api/v1/events?event_type=module_state_changed').expect(200)).body;
      expect(event.severity).toBe('warning');

      server = createServer((_req, res) => res.writeHead(200).end());
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
      await modules.probeAll();
      expect((await modulesOf(t)).counter).toMatchObject({ state: 'running', reason: null });

      await t.http().delete('/api/v1/modules/counter').expect(204);
      expect((await modulesOf(t)).counter).toMatchObject({ kind: 'sidecar', state: 'stopped' });
      expect((await stateChanges(t)).map((c) => `${String(c.previous_state)}→${String(c.state)}`)).toEqual([
        'running→stopped',
        'failed→running',
        'running→failed',
        'loaded→running',
      ]);
      // The same id may be registered again after it was unregistered.
      await t
        .http()
        .post('/api/v1/modules')
        .send({ id: 'counter', name: 'People counter', base_url: `http://127.0.0.1:${port}` })
        .expect(201);
      await waitFor(
        async () => (await modulesOf(t)).counter.state === 'loaded',
        5000,
        'the record loaded again',
      );
    } finally {
      await t.close();
      server.close();
    }
  });
});
