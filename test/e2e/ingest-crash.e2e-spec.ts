import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source';
import { ENTITIES } from '../../src/app.entities';
import { freePort } from '../fixtures/free-port';
import { bootKernel, detectionBatch, type Kernel, MAIN, postBatch } from '../support/kernel-process';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

const CLIENTS = 4;
const PER_BATCH = 5;
const TRIALS = 3;

/** The kernel without recorders or samplers: this file is about ingest alone. */
const boot = (store: TestStore, port: number) =>
  bootKernel(store, port, { HELDAR_RECORDER_ENABLED: 'false' });
const ingest = (base: string, frame: string) => postBatch(base, detectionBatch('kc', frame, PER_BATCH));

describe(`ingest survives kill -9 (${ENGINE})`, () => {
  beforeAll(() => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run \`npm run build\` first (make test does)`);
  });

  it('every acknowledged batch is stored exactly once, whole; replays are duplicates; fan-out completes', async () => {
    const store = await createTestStore();
    const port = await freePort();
    const acked = new Set<string>();
    const attempted: string[] = [];
    let k: Kernel | null = null;
    try {
      k = await boot(store, port);
      await fetch(`${k.base}/api/v1/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'kc', name: 'Crash' }),
      });
      await fetch(`${k.base}/api/v1/cameras/kc/zones`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'All',
          polygon: [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 1],
          ],
        }),
      });
      for (let trial = 0; trial < TRIALS; trial++) {
        let stop = false;
        const current = k;
        const clients = Array.from({ length: CLIENTS }, async (_, c) => {
          for (let i = 0; !stop; i++) {
            const frame = `t${trial}-c${c}-${i}`;
            attempted.push(frame);
            const r = await ingest(current.base, frame);
            if (r.ok && !r.duplicate) acked.add(frame);
            if (!r.ok) return;
          }
        });
        await new Promise((r) => setTimeout(r, 1500));
        current.child.kill('SIGKILL');
        await current.exited;
        stop = true;
        await Promise.all(clients);
        k = await boot(store, port);
      }
      expect(acked.size).toBeGreaterThan(20);

      const ds = new DataSource(dataSourceOptions(store.config, ENTITIES));
      await ds.initialize();
      try {
        const outbox = await ds.query<Array<{ frame_id: string; detection_count: number }>>(
          "SELECT frame_id, detection_count FROM outbox WHERE camera_id = 'kc'",
        );
        const stored = new Map(
          outbox.map((o) => [String(o.frame_id).replace(/^w:/, ''), Number(o.detection_count)]),
        );
        expect(stored.size).toBe(outbox.length); // never twice
        for (const f of acked) expect({ f, stored: stored.has(f) }).toEqual({ f, stored: true });
        const perFrame = await ds.query<Array<{ frame_id: string; n: number | string }>>(
          "SELECT frame_id, COUNT(*) AS n FROM detections WHERE camera_id = 'kc' GROUP BY frame_id",
        );
        // Whole batches only: every stored frame has all its detections, and no detections lack a frame row.
        expect(perFrame.length).toBe(outbox.length);
        for (const row of perFrame) expect(Number(row.n)).toBe(PER_BATCH);

        // Re-posting everything: what was stored is a duplicate; nothing gets stored twice.
        for (const f of attempted) {
          const r = await ingest(k.base, f);
          expect({ f, ok: r.ok }).toEqual({ f, ok: true });
          if (stored.has(f)) expect({ f, duplicate: r.duplicate }).toEqual({ f, duplicate: true });
        }
        const after = await ds.query<
          Array<{
            n: number | string;
          }>
        >("SELECT COUNT(*) AS n FROM outbox WHERE camera_id = 'kc'");
        expect(Number(after[0].n)).toBe(new Set(attempted).size);

        // Batches committed just before a kill had their fan-out interrupted: the replay loop
        // (15 s cadence, batches older than 10 s) completes them.
        const deadline = Date.now() + 60_000;
        let unfanned = -1;
        while (Date.now() < deadline) {
          const rows = await ds.query<Array<{ n: number | string }>>(
            'SELECT COUNT(*) AS n FROM outbox WHERE fanned_out_at IS NULL',
          );
          unfanned = Number(rows[0].n);
          if (unfanned === 0) break;
          await new Promise((r) => setTimeout(r, 1000));
        }
        expect(unfanned).toBe(0);
        const claims = await ds.query<Array<{ n: number | string }>>(
          "SELECT COUNT(*) AS n FROM consumer_fanout WHERE consumer = 'zones'",
        );
        expect(Number(claims[0].n)).toBe(new Set(attempted).size);
      } finally {
        await ds.destroy();
      }
    } finally {
      k?.child.kill('SIGKILL');
      await k?.exited;
      await store.cleanup();
    }
  }, 180_000);
});
