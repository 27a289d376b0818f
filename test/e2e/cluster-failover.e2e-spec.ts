import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../fixtures/free-port';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { bootKernel, json, type Kernel, kill9, MAIN, sqliteRows } from '../support/kernel-process';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

/**
 * Cluster failover with real kernel processes (dist/): two nodes on one PostgreSQL, three RTSP
 * test cameras. Each camera is recorded by exactly one ffmpeg (counted from the process list, by
 * the camera's URL and the node's recordings folder); kill -9 the node holding most of them: they
 * record on the other within 30 s (the figure is printed), the hole is a `node_failover` gap, and
 * no segment row is duplicated. On SQLite the single kernel owns every camera, without leases.
 */

const SEGMENT_S = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ffmpeg pids per camera URL and node (by the node's data dir in the output path). */
function recorders(urls: readonly string[], dirs: Record<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>(urls.map((u) => [u, []]));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string[];
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!cmd.some((a) => a.endsWith('ffmpeg'))) continue;
    const url = urls.find((u) => cmd.includes(u));
    const node = Object.keys(dirs).find((n) => cmd.some((a) => a.startsWith(dirs[n])));
    if (url && node) out.get(url)!.push(node);
  }
  return out;
}

async function waitUntil<T>(what: string, ms: number, fn: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const ENV = {
  HELDAR_RECORDER_ENABLED: 'true',
  HELDAR_INDEXER_INTERVAL_S: '1',
  HELDAR_HEALTH_INTERVAL_S: '1',
  HELDAR_LOG: 'warn',
};

describe(`cluster: one recorder per camera, failover on kill -9 (${ENGINE})`, () => {
  let store: TestStore;
  const cams: TestCamera[] = [];
  const kernels: Kernel[] = [];
  const ids = ['cl_a', 'cl_b', 'cl_c'];

  beforeAll(async () => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run \`npm run build\` first (make test does)`);
    store = await createTestStore();
    for (let i = 0; i < ids.length; i++)
      cams.push(await startTestCamera({ width: 320, height: 240, fps: 5 }));
  });

  afterAll(async () => {
    for (const k of kernels) await kill9(k);
    await Promise.all(cams.map((c) => c.stop()));
    await store?.cleanup();
  });

  const createCameras = async (base: string) => {
    for (let i = 0; i < ids.length; i++) {
      const r = await json(`${base}/api/v1/cameras`, {
        method: 'POST',
        body: JSON.stringify({
          id: ids[i],
          name: ids[i],
          main_stream_url: cams[i].url,
          segment_seconds: SEGMENT_S,
        }),
      });
      expect(r.status).toBe(201);
    }
  };

  if (ENGINE === 'postgres') {
    it('each camera recorded by exactly one node; kill -9 → the other records it within 30 s, a node_failover gap, no duplicate rows; a lost lease stops its recorder', async () => {
      // Same secret key (camera URLs are sealed with it), own data dir (own disk) per node.
      const secret = randomBytes(32).toString('base64');
      const dirs = { a: join(store.dataDir, 'node-a'), b: join(store.dataDir, 'node-b') };
      for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
      const boot = async (node: 'a' | 'b', extra: Record<string, string> = {}) => {
        const k = await bootKernel(store, await freePort(), {
          ...ENV,
          HELDAR_DATA_DIR: dirs[node],
          HELDAR_SECRET_KEY: secret,
          HELDAR_NODE_ID: `node-${node}`,
          ...extra,
        });
        kernels.push(k);
        return k;
      };
      // A takes at most 2 cameras, B (booted once the cameras exist) the third: both record.
      const a = await boot('a', { HELDAR_NODE_MAX_CAMERAS: '2' });
      await createCameras(a.base);
      await boot('b');
      const urls = cams.map((c) => c.url);
      const spread = await waitUntil('one recorder per camera on both nodes', 30_000, () => {
        const r = recorders(urls, dirs);
        const ok = [...r.values()].every((nodes) => nodes.length === 1);
        return ok ? r : null;
      });
      const onA = urls.filter((u) => spread.get(u)![0] === 'a');
      expect(onA).toHaveLength(2);
      expect(urls.filter((u) => spread.get(u)![0] === 'b')).toHaveLength(1);
      // Still exactly one a few rounds later (no second owner appears).
      await sleep(4000);
      for (const nodes of recorders(urls, dirs).values()) expect(nodes).toHaveLength(1);

      const pg = new Client({ connectionString: store.databaseUrl });
      await pg.connect();
      try {
        const segs = async () =>
          (
            await pg.query<{ camera_id: string; path: string; start_time: string; node_id: string | null }>(
              'SELECT camera_id, path, start_time, node_id FROM segments ORDER BY camera_id, start_time',
            )
          ).rows;
        const camOf = (u: string) => ids[urls.indexOf(u)];
        // A's cameras have footage indexed from A's disk before the kill.
        await waitUntil('segments from node a', 20_000, async () => {
          const rows = await segs();
          return onA.every((u) => rows.some((r) => r.camera_id === camOf(u) && r.node_id === 'node-a'))
            ? true
            : null;
        });

        const killedAt = Date.now();
        await kill9(kernels[0]);
        const movedAt = await waitUntil('A\u2019s cameras recording on B', 30_000, () => {
          const r = recorders(urls, dirs);
          return onA.every((u) => r.get(u)!.length === 1 && r.get(u)![0] === 'b') ? Date.now() : null;
        });
        const indexedAt = await waitUntil('a segment of B for each of A\u2019s cameras', 30_000, async () => {
          const rows = await segs();
          return onA.every((u) => rows.some((r) => r.camera_id === camOf(u) && r.node_id === 'node-b'))
            ? Date.now()
            : null;
        });
        console.log(
          `cluster failover: kill -9 → recorder on the other node ${((movedAt - killedAt) / 1000).toFixed(1)} s, ` +
            `→ first segment indexed ${((indexedAt - killedAt) / 1000).toFixed(1)} s`,
        );
        expect(movedAt - killedAt).toBeLessThan(30_000);
        for (const nodes of recorders(urls, dirs).values()) expect(nodes).toEqual(['b']);
        const metrics = await (await fetch(`${kernels[1].base}/metrics`)).text();
        for (const id of ids)
          expect(metrics).toContain(`heldar_camera_owner{camera="${id}",node="node-b"} 1`);

        const b = kernels[1];
        for (const u of onA) {
          const gaps = await json<{ gaps: Array<{ cause: string }> }>(
            `${b.base}/api/v1/cameras/${camOf(u)}/gaps`,
          );
          expect(gaps.status).toBe(200);
          expect(gaps.body.gaps.map((g) => g.cause)).toContain('node_failover');
        }
        const rows = await segs();
        expect(new Set(rows.map((r) => r.path)).size).toBe(rows.length);
        expect(new Set(rows.map((r) => `${r.camera_id} ${r.start_time}`)).size).toBe(rows.length);
        // A lease B can no longer renew (another node holds it now): B stops that recorder.
        const stolen = ids[0];
        await pg.query(
          `UPDATE camera_leases SET node_id = 'node-x', expires_at = '9999-01-01T00:00:00.000Z' WHERE camera_id = $1`,
          [stolen],
        );
        await waitUntil('B to stop the recorder of a camera it lost', 10_000, () =>
          recorders(urls, dirs).get(urls[0])!.length === 0 ? true : null,
        );
        expect(recorders(urls, dirs).get(urls[1])).toEqual(['b']);
        // Every row names the node whose disk holds it.
        for (const r of rows) {
          const dir = r.node_id === 'node-a' ? dirs.a : dirs.b;
          expect(existsSync(join(dir, 'recordings', r.path))).toBe(true);
        }
      } finally {
        await pg.end();
      }
    }, 90_000);
  } else {
    it('a single SQLite kernel records every camera, one ffmpeg each, and holds no lease', async () => {
      const k = await bootKernel(store, await freePort(), ENV);
      kernels.push(k);
      await createCameras(k.base);
      const urls = cams.map((c) => c.url);
      await waitUntil('one recorder per camera', 20_000, () =>
        [...recorders(urls, { k: store.dataDir }).values()].every((n) => n.length === 1) ? true : null,
      );
      await sleep(2000);
      for (const nodes of recorders(urls, { k: store.dataDir }).values()) expect(nodes).toHaveLength(1);
      expect(sqliteRows(store, 'SELECT * FROM camera_leases')).toEqual([]);
      const metrics = await (await fetch(`${k.base}/metrics`)).text();
      for (const id of ids)
        expect(metrics).toMatch(new RegExp(`heldar_camera_owner\\{camera="${id}",node="[^"]+"\\} 1`));
    }, 60_000);
  }
});
