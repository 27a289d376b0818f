import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../fixtures/free-port';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import {
  bootKernel,
  json,
  type Kernel,
  kill9,
  MAIN,
  signalGroup,
  sqliteRows,
} from '../support/kernel-process';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

/**
 * The cluster's faults with real kernel processes (dist/), each in a process group of its own (a
 * machine: the kernel and its ffmpeg children): three nodes on one PostgreSQL, six RTSP test
 * cameras. Every camera is recorded by exactly one ffmpeg (counted from the process list, by the
 * camera's URL and the node's recordings folder), on every node.
 * - SIGSTOP a node's whole group for 40 s (a frozen machine), then SIGCONT: the others take its
 *   cameras after the lease TTL; once resumed it stops its recorders of them within seconds and
 *   does not take them back; its half-written segment keeps the time it was filmed, what its
 *   resumed ffmpeg wrote without a lease leaves no row; no two nodes' rows of one camera overlap by
 *   more than one segment; no row is lost.
 * - kill -9 the leader's group: its cameras record on the others within 30 s (the figure is
 *   printed), `node_failover` gaps; a new leader delivers the webhooks emitted after the kill, and
 *   each event once (the cursor is shared); the new leader's retention deletes expired footage.
 * On SQLite the single kernel owns every camera, without leases.
 */

const SEGMENT_S = 2;
const FREEZE_MS = 40_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ffmpeg pids per camera URL and node (by the node's data dir in the output path). A stopped
 * (SIGSTOP) ffmpeg is still listed. */
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

/** Milliseconds covered by rows of both lists (each list's own rows never overlap). */
function overlapMs(a: readonly Row[], b: readonly Row[]): number {
  let total = 0;
  for (const x of a)
    for (const y of b) total += Math.max(0, Math.min(x.end, y.end) - Math.max(x.start, y.start));
  return total;
}

/**
 * What is wrong with a set of segment rows: a file indexed twice; two nodes' rows of one camera
 * overlapping by more than one segment; a row shortened (clamped) to make room for another node's
 * row (a row spans its media, unless its own node's next segment clamped it).
 */
function rowProblems(rows: readonly Row[], cameraIds: readonly string[]): string[] {
  const out: string[] = [];
  if (new Set(rows.map((r) => r.path)).size !== rows.length) out.push('a path indexed twice');
  if (new Set(rows.map((r) => `${r.camera_id} ${r.start}`)).size !== rows.length)
    out.push('two rows of one camera with the same start');
  for (const id of cameraIds) {
    const byNode = new Map<string, Row[]>();
    for (const r of rows.filter((x) => x.camera_id === id))
      byNode.set(r.node_id ?? '', [...(byNode.get(r.node_id ?? '') ?? []), r]);
    const ns = [...byNode.keys()];
    for (let i = 0; i < ns.length; i++)
      for (let j = i + 1; j < ns.length; j++) {
        const ms = overlapMs(byNode.get(ns[i])!, byNode.get(ns[j])!);
        if (ms > SEGMENT_S * 1000) out.push(`${id}: ${ns[i]} and ${ns[j]} overlap by ${ms} ms`);
      }
  }
  for (const r of rows) {
    if (r.end - r.start >= r.duration_s * 1000 - 500) continue;
    const by = rows.find((x) => x.camera_id === r.camera_id && x.start === r.end);
    if (by?.node_id !== r.node_id)
      out.push(`${r.path} (${r.node_id}) clamped by ${by?.path} (${by?.node_id})`);
  }
  return out;
}

interface Row {
  camera_id: string;
  path: string;
  node_id: string | null;
  start: number;
  end: number;
  duration_s: number;
}

/** Webhook receiver on loopback: every delivery with its webhook-id header. */
class Receiver {
  readonly got: Array<{ id: string; seq: number; type: string }> = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const j = (body ? JSON.parse(body) : {}) as { seq?: number; type?: string };
        if (typeof j.seq === 'number')
          this.got.push({ id: String(req.headers['webhook-id']), seq: j.seq, type: String(j.type) });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const ENV = {
  HELDAR_RECORDER_ENABLED: 'true',
  HELDAR_INDEXER_INTERVAL_S: '1',
  HELDAR_HEALTH_INTERVAL_S: '1',
  HELDAR_LOG: 'warn',
};

describe(`cluster: one recorder per camera, a frozen node, the leader killed (${ENGINE})`, () => {
  let store: TestStore;
  const cams: TestCamera[] = [];
  const kernels: Kernel[] = [];
  const rx = new Receiver();
  const ids =
    ENGINE === 'postgres' ? ['cl_a', 'cl_b', 'cl_c', 'cl_d', 'cl_e', 'cl_f'] : ['cl_a', 'cl_b', 'cl_c'];

  beforeAll(async () => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run \`npm run build\` first (make test does)`);
    store = await createTestStore();
    for (let i = 0; i < ids.length; i++)
      cams.push(await startTestCamera({ width: 320, height: 240, fps: 5 }));
  });

  afterAll(async () => {
    // Every group, even a stopped one (SIGKILL ends stopped processes), even after a failure.
    for (const k of kernels) await kill9(k);
    await rx.stop();
    await Promise.all(cams.map((c) => c.stop()));
    await store?.cleanup();
  }, 30_000);

  const createCameras = async (base: string, extra: Record<string, unknown> = {}) => {
    for (let i = 0; i < ids.length; i++) {
      const r = await json(`${base}/api/v1/cameras`, {
        method: 'POST',
        body: JSON.stringify({
          id: ids[i],
          name: ids[i],
          main_stream_url: cams[i].url,
          segment_seconds: SEGMENT_S,
          ...extra,
        }),
      });
      expect(r.status).toBe(201);
    }
  };

  if (ENGINE === 'postgres') {
    it('3 nodes, 6 cameras: one recorder each, spread; a node frozen 40 s gives its cameras up for good and leaves no overlapping row; the leader killed → cameras, webhooks (each once) and retention carry on elsewhere', async () => {
      // Same secret key (camera URLs are sealed with it), own data dir (own disk) per node.
      const secret = randomBytes(32).toString('base64');
      const names = ['a', 'b', 'c'] as const;
      type N = (typeof names)[number];
      const dirs = Object.fromEntries(names.map((n) => [n, join(store.dataDir, `node-${n}`)])) as Record<
        N,
        string
      >;
      for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
      const node: Partial<Record<N, Kernel>> = {};
      const boot = async (n: N) => {
        const k = await bootKernel(
          store,
          await freePort(),
          {
            ...ENV,
            HELDAR_DATA_DIR: dirs[n],
            HELDAR_SECRET_KEY: secret,
            HELDAR_NODE_ID: `node-${n}`,
            HELDAR_RETENTION_INTERVAL_S: '30',
            HELDAR_WEBHOOK_RETRY_SCHEDULE_S: '0.5,1,2',
            HELDAR_WEBHOOK_TIMEOUT_MS: '2000',
          },
          { group: true },
        );
        kernels.push(k);
        node[n] = k;
      };
      // All three at once on the new database, as a cluster is started (they migrate in turn).
      await Promise.all(names.map(boot));
      const k = node as Record<N, Kernel>;
      type Cluster = { leader_id: string | null; live_nodes: number };
      const cluster = async (n: N) => (await json<Cluster>(`${k[n].base}/api/v1/cluster`)).body;
      // Every node counts three live ones before the cameras exist: each takes a share.
      await waitUntil('3 live nodes', 20_000, async () =>
        (await Promise.all(names.map(cluster))).every((c) => c.live_nodes === 3) ? true : null,
      );
      // Footage older than an hour is retention's (a file dropped in later proves its sweep).
      await createCameras(k.a.base, { retention_hours: 1 });
      // A camera that records nothing: its updates are the events the webhook test counts.
      expect(
        (
          await json(`${k.a.base}/api/v1/cameras`, {
            method: 'POST',
            body: JSON.stringify({ id: 'cl_tag', name: 'tag', record_enabled: false }),
          })
        ).status,
      ).toBe(201);
      const urls = cams.map((c) => c.url);
      const camOf = (u: string) => ids[urls.indexOf(u)];
      const spread = await waitUntil('one recorder per camera, on every node', 30_000, () => {
        const r = recorders(urls, dirs);
        const one = [...r.values()].every((ns) => ns.length === 1);
        return one && names.every((n) => [...r.values()].some((ns) => ns[0] === n)) ? r : null;
      });
      const camerasOf = (n: N, r = spread) => urls.filter((u) => r.get(u)![0] === n).map(camOf);
      // Still exactly one a few rounds later (no second owner appears).
      await sleep(4000);
      for (const ns of recorders(urls, dirs).values()) expect(ns).toHaveLength(1);

      const pg = new Client({ connectionString: store.databaseUrl });
      await pg.connect();
      try {
        const segs = async (): Promise<Row[]> =>
          (
            await pg.query<Omit<Row, 'start' | 'end'> & { start_time: string; end_time: string }>(
              'SELECT camera_id, path, node_id, start_time, end_time, duration_s FROM segments ORDER BY camera_id, start_time',
            )
          ).rows.map((r) => ({
            camera_id: r.camera_id,
            path: r.path,
            node_id: r.node_id,
            duration_s: Number(r.duration_s),
            start: Date.parse(r.start_time),
            end: Date.parse(r.end_time),
          }));
        await waitUntil('segments of every camera', 20_000, async () => {
          const rows = await segs();
          return ids.every((id) => rows.some((r) => r.camera_id === id)) ? true : null;
        });
        await rx.start();
        const hook = await json(`${k.a.base}/api/v1/webhooks`, {
          method: 'POST',
          body: JSON.stringify({ url: rx.url, event_types: ['camera_updated'] }),
        });
        expect(hook.status).toBe(201);
        let tags = 0;
        const emitOn = async (n: N) => {
          const r = await json(`${k[n].base}/api/v1/cameras/cl_tag`, {
            method: 'PATCH',
            body: JSON.stringify({ name: `tag ${++tags}` }),
          });
          expect(r.status).toBe(200);
        };

        // ---- A node frozen for 40 s: the whole group (kernel and ffmpeg), like a hung machine.
        const leader0 = await waitUntil('a leader', 10_000, async () => (await cluster('a')).leader_id);
        const frozen: N = names.find((n) => `node-${n}` !== leader0)!;
        const others = names.filter((n) => n !== frozen);
        const frozenCams = camerasOf(frozen);
        const urlOf = (id: string) => urls[ids.indexOf(id)];
        const rowsBefore = await segs();
        const stoppedAt = Date.now();
        signalGroup(k[frozen], 'SIGSTOP');
        const takenAt = await waitUntil('the frozen node’s cameras recorded by the others', 35_000, () => {
          const r = recorders(urls, dirs);
          return frozenCams.every((id) => r.get(urlOf(id))!.some((n) => n !== frozen)) ? Date.now() : null;
        });
        // Webhook events while a node is frozen and the leader lives.
        for (let i = 0; i < 3; i++) await emitOn(others[i % 2]);
        await sleep(Math.max(0, stoppedAt + FREEZE_MS - Date.now()));
        const resumedAt = Date.now();
        signalGroup(k[frozen], 'SIGCONT');
        const quitAt = await waitUntil('the resumed node to stop its recorders of them', 10_000, () => {
          const r = recorders(urls, dirs);
          return frozenCams.every((id) => !r.get(urlOf(id))!.includes(frozen)) ? Date.now() : null;
        });
        console.log(
          `cluster SIGSTOP ${FREEZE_MS / 1000} s: cameras recorded by the others after ${((takenAt - stoppedAt) / 1000).toFixed(1)} s; ` +
            `after SIGCONT the frozen node's recorders of them gone in ${((quitAt - resumedAt) / 1000).toFixed(1)} s`,
        );
        expect(quitAt - resumedAt).toBeLessThan(5000);
        // It does not take them back (two lease rounds later): one recorder per camera, none on it.
        await sleep(7000);
        const after = recorders(urls, dirs);
        for (const ns of after.values()) expect(ns).toHaveLength(1);
        for (const id of frozenCams) expect(after.get(urlOf(id))![0]).not.toBe(frozen);
        expect(camerasOf(frozen, after)).toEqual([]);

        // The frozen node's footage of its cameras ends where it was frozen: its half-written
        // segment keeps the time it was filmed, not the time its ffmpeg finished it on resume, and
        // what its ffmpeg opened after the lease had ended (the pause's backlog) has no row.
        const filesOf = (n: N) =>
          ids.flatMap((id) => {
            const camDir = join(dirs[n], 'recordings', id);
            if (!existsSync(camDir)) return [];
            return readdirSync(camDir).flatMap((day) =>
              readdirSync(join(camDir, day))
                .filter((f) => f.endsWith('.mp4'))
                .map((f) => `${id}/${day}/${f}`),
            );
          });
        const rowsOf = (rows: Row[], n: N) => rows.filter((r) => r.node_id === `node-${n}`);
        // Every file of the frozen node has its row and every row its file (its ffmpeg are gone).
        const rowsFrozen = await waitUntil('the resumed node’s files and rows to agree', 15_000, async () => {
          const rows = await segs();
          const files = filesOf(frozen).sort();
          const mine = rowsOf(rows, frozen)
            .map((r) => r.path)
            .sort();
          return JSON.stringify(files) === JSON.stringify(mine) ? rows : null;
        }).catch(async () => {
          const rows = await segs();
          expect(filesOf(frozen).sort()).toEqual(
            rowsOf(rows, frozen)
              .map((r) => r.path)
              .sort(),
          );
          return rows;
        });
        const late = rowsOf(rowsFrozen, frozen)
          .filter((r) => frozenCams.includes(r.camera_id) && r.end > stoppedAt + SEGMENT_S * 1000 + 2500)
          .map((r) => `${r.path} ends ${((r.end - stoppedAt) / 1000).toFixed(1)} s after SIGSTOP`);
        expect(late).toEqual([]);
        expect(rowProblems(rowsFrozen, ids)).toEqual([]);
        // No row lost: every row from before the freeze is still there.
        const pathsFrozen = new Set(rowsFrozen.map((r) => r.path));
        expect(rowsBefore.filter((r) => !pathsFrozen.has(r.path))).toEqual([]);

        // ---- The leader killed (kill -9 of its group: a power cut).
        const leader = await waitUntil('a leader', 10_000, async () => (await cluster(others[0])).leader_id);
        const victim = names.find((n) => `node-${n}` === leader)!;
        expect(victim).not.toBe(frozen);
        const survivors = names.filter((n) => n !== victim);
        const victimCams = camerasOf(victim, after);
        expect(victimCams.length).toBeGreaterThan(0);
        await waitUntil('the events before the kill delivered', 10_000, () =>
          rx.got.length >= tags ? true : null,
        );
        await waitUntil('segments of the leader', 20_000, async () => {
          const rows = await segs();
          return victimCams.every((id) => rows.some((r) => r.camera_id === id && r.node_id === leader))
            ? true
            : null;
        });
        const killedAt = Date.now();
        await kill9(k[victim]);
        // Events written while no node leads: the next leader delivers them.
        for (let i = 0; i < 3; i++) await emitOn(survivors[i % 2]);
        // Footage two hours old (its camera keeps one hour) on each survivor's disk, where the
        // recorder writes: a copy of one of its segments, named and dated then.
        const rowsAtKill = await segs();
        const olds = survivors.map((n, i) => {
          const row = rowsAtKill.find((r) => r.node_id === `node-${n}`)!;
          // (Paths are unique across nodes: one name per node.)
          const oldMs = Math.floor((Date.now() - 2 * 3_600_000) / 1000) * 1000 - i * 10_000;
          const iso = new Date(oldMs).toISOString();
          const name = `${iso.slice(0, 19).replace(/[-:]/g, '').replace('T', '_')}.mp4`;
          const rel = `${row.camera_id}/${iso.slice(0, 10)}/${name}`;
          const abs = join(dirs[n], 'recordings', rel);
          mkdirSync(join(abs, '..'), { recursive: true });
          copyFileSync(join(dirs[n], 'recordings', row.path), abs);
          utimesSync(abs, new Date(oldMs + 2000), new Date(oldMs + 2000));
          return { cam: row.camera_id, rel, abs };
        });
        const movedAt = await waitUntil('the leader’s cameras recording elsewhere', 30_000, () => {
          const r = recorders(urls, dirs);
          return victimCams.every((id) => r.get(urlOf(id))!.length === 1 && r.get(urlOf(id))![0] !== victim)
            ? Date.now()
            : null;
        });
        const indexedAt = await waitUntil(
          'a segment elsewhere for each of the leader’s cameras',
          30_000,
          async () => {
            const rows = await segs();
            return victimCams.every((id) =>
              rows.some((r) => r.camera_id === id && r.node_id !== leader && r.start > killedAt - 3000),
            )
              ? Date.now()
              : null;
          },
        );
        const newLeader = await waitUntil('a new leader', 30_000, async () => {
          const c = await cluster(survivors[0]);
          return c.leader_id && c.leader_id !== leader ? c.leader_id : null;
        });
        const ledAt = Date.now();
        console.log(
          `cluster kill -9 of the leader: recorder on another node ${((movedAt - killedAt) / 1000).toFixed(1)} s, ` +
            `first segment indexed ${((indexedAt - killedAt) / 1000).toFixed(1)} s, new leader seen ${((ledAt - killedAt) / 1000).toFixed(1)} s`,
        );
        expect(movedAt - killedAt).toBeLessThan(30_000);
        const heir = names.find((n) => `node-${n}` === newLeader)!;
        expect(survivors).toContain(heir);
        for (const ns of recorders(urls, dirs).values()) expect(ns).toHaveLength(1);
        for (const id of [...victimCams, ...frozenCams]) {
          const gaps = await json<{ gaps: Array<{ cause: string }> }>(
            `${k[survivors[0]].base}/api/v1/cameras/${id}/gaps`,
          );
          expect(gaps.status).toBe(200);
          expect([id, gaps.body.gaps.map((g) => g.cause)]).toEqual([
            id,
            expect.arrayContaining(['node_failover']),
          ]);
        }

        // Retention after the kill, on the new leader (each node sweeps its own disk): the hour-old
        // files dropped in just after the kill are indexed, then swept.
        const sweptAt = await waitUntil('retention to delete the old footage', 45_000, async () => {
          const left = await pg.query('SELECT 1 FROM segments WHERE path = ANY($1)', [
            olds.map((o) => o.rel),
          ]);
          return olds.every((o) => !existsSync(o.abs)) && left.rowCount === 0 ? Date.now() : null;
        });
        const swept = await pg.query<{ payload: string }>(
          `SELECT payload FROM events WHERE event_type = 'retention_delete' AND created_at > $1`,
          [new Date(killedAt).toISOString()],
        );
        for (const o of olds)
          expect(swept.rows.some((e) => JSON.stringify(e.payload).includes(o.cam))).toBe(true);
        console.log(
          `cluster retention after the kill: old footage swept ${((sweptAt - killedAt) / 1000).toFixed(1)} s after it`,
        );

        // Webhooks: every event delivered, none twice (the webhook-id is the message's).
        const expected = (
          await pg.query<{ seq: number }>(
            `SELECT seq FROM events WHERE event_type = 'camera_updated' AND camera_id = 'cl_tag' ORDER BY seq`,
          )
        ).rows.map((r) => Number(r.seq));
        expect(expected).toHaveLength(tags);
        await waitUntil('every event delivered by the new leader', 30_000, () =>
          expected.every((s) => rx.got.some((g) => g.seq === s)) ? true : null,
        );
        await sleep(2000); // a duplicate would come now
        expect(rx.got.map((g) => g.seq).sort((x, y) => x - y)).toEqual(expected);
        expect(new Set(rx.got.map((g) => g.id)).size).toBe(rx.got.length);

        // Rows over the whole test: none twice, no two nodes over one camera for more than a
        // segment, none shortened for another node's; each on the disk of the node it names.
        const rows = await segs();
        expect(rowProblems(rows, ids)).toEqual([]);
        const paths = new Set(rows.map((r) => r.path));
        expect(rowsFrozen.filter((r) => !paths.has(r.path))).toEqual([]);
        const nodeDir = (id: string | null) => dirs[names.find((n) => `node-${n}` === id)!];
        expect(rows.filter((r) => !existsSync(join(nodeDir(r.node_id), 'recordings', r.path)))).toEqual([]);
        const metrics = await (await fetch(`${k[heir].base}/metrics`)).text();
        for (const id of camerasOf(heir, recorders(urls, dirs)))
          expect(metrics).toContain(`heldar_camera_owner{camera="${id}",node="${newLeader}"} 1`);

        // A lease a node can no longer renew (another holds it now): that node stops its recorder.
        const stolen = ids[0];
        await pg.query(
          `UPDATE camera_leases SET node_id = 'node-x', expires_at = '9999-01-01T00:00:00.000Z' WHERE camera_id = $1`,
          [stolen],
        );
        await waitUntil('the holder to stop the recorder of a camera it lost', 10_000, () =>
          recorders(urls, dirs).get(urlOf(stolen))!.length === 0 ? true : null,
        );
      } finally {
        await pg.end();
      }
    }, 240_000);
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
