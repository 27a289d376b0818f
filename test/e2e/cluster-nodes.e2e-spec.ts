import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { freePort } from '../fixtures/free-port';
import { bootKernel, type Kernel, kernelEnv, kill9, MAIN } from '../support/kernel-process';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

interface ClusterBody {
  engine: string;
  node_id: string;
  leader_id: string | null;
  live_nodes: number;
  nodes: Array<{ id: string; live: boolean; leader: boolean; capacity: number; version: string }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A kernel process expected to refuse: its exit code and everything it printed. */
function bootRefused(store: TestStore, port: number, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [MAIN], { cwd: store.dataDir, env: kernelEnv(store, port, env) });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise<{ code: number | null; out: string }>((r) =>
    child.once('exit', (code) => {
      clearTimeout(killer);
      r({ code, out });
    }),
  );
}

const cluster = async (k: Kernel) => (await (await fetch(`${k.base}/api/v1/cluster`)).json()) as ClusterBody;
const metric = async (k: Kernel, name: string) => {
  const text = await (await fetch(`${k.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.split(' ')[1]);
};

/**
 * Real kernel processes on one store: a second kernel on the same SQLite file (or with the node id of
 * a live one, PostgreSQL) refuses to start; a kernel killed -9 does not block its restart; on
 * PostgreSQL a node with another id joins and takes the leadership over when the leader is killed.
 */
describe(`cluster nodes, real processes (${ENGINE})`, () => {
  let store: TestStore;
  const kernels: Kernel[] = [];

  beforeAll(async () => {
    store = await createTestStore();
  });
  afterAll(async () => {
    for (const k of kernels) await kill9(k);
    await store?.cleanup();
  });

  it('refuses a second kernel, does not let a crashed one block the restart, and (PostgreSQL) a new leader takes over', async () => {
    const a = await bootKernel(store, await freePort());
    kernels.push(a);
    const pidA = a.child.pid!;

    const second = await bootRefused(store, await freePort());
    expect(second.code).toBe(1);
    const holder = `another Heldar kernel (pid ${pidA} on host ${hostname()})`;
    expect(second.out).not.toContain('    at '); // a message for the operator, no stack trace
    if (ENGINE === 'sqlite') {
      expect(second.out).toContain(`${holder} is using ${store.config.sqlitePath}; stop it first`);
      // Single-node whatever the node id: another id on the same file is refused too.
      const otherId = await bootRefused(store, await freePort(), { HELDAR_NODE_ID: 'another-id' });
      expect(otherId.code).toBe(1);
      expect(otherId.out).toContain(`${holder} is using ${store.config.sqlitePath}; stop it first`);
    } else {
      expect(second.out).toContain(`${holder} is running as node ${store.config.nodeId} on postgres://`);
      expect(second.out).not.toContain(store.databaseUrl); // the URL is shown masked
    }
    expect((await fetch(`${a.base}/readyz`)).status).toBe(200); // the first one kept running

    let c: Kernel | null = null;
    if (ENGINE === 'postgres') {
      c = await bootKernel(store, await freePort(), {
        HELDAR_NODE_ID: 'node-c',
        HELDAR_NODE_MAX_CAMERAS: '8',
      });
      kernels.push(c);
      const view = await cluster(c);
      expect(view).toMatchObject({
        engine: 'postgres',
        node_id: 'node-c',
        leader_id: store.config.nodeId,
        live_nodes: 2,
      });
      expect(view.nodes.map((n) => [n.id, n.live, n.leader, n.capacity])).toEqual(
        [
          [store.config.nodeId, true, true, 256],
          ['node-c', true, false, 8],
        ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      );
      expect([await metric(a, 'heldar_cluster_leader'), await metric(c, 'heldar_cluster_leader')]).toEqual([
        1, 0,
      ]);
      expect(await metric(c, 'heldar_cluster_nodes')).toBe(2);
    } else {
      expect(await cluster(a)).toMatchObject({
        engine: 'sqlite',
        leader_id: store.config.nodeId,
        live_nodes: 1,
      });
      expect([await metric(a, 'heldar_cluster_leader'), await metric(a, 'heldar_cluster_nodes')]).toEqual([
        1, 1,
      ]);
    }

    // Killed -9: its row says running, but its pid is gone: the restart is not refused.
    await kill9(a);
    const restarted = await bootKernel(store, await freePort());
    kernels.push(restarted);
    if (ENGINE === 'sqlite') {
      const view = await cluster(restarted);
      // The refused kernel's row stays, marked stopped: not live.
      expect(view.nodes.map((n) => [n.id, n.live, n.leader])).toEqual(
        [
          ['another-id', false, false],
          [store.config.nodeId, true, true],
        ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      );
      return;
    }
    // PostgreSQL: it was the leader; its node row shows its pid gone, so the restart takes the lease
    // over at once (not after the 15 s TTL): the singletons resume with it, node-c stays a follower.
    expect([
      await metric(restarted, 'heldar_cluster_leader'),
      await metric(c!, 'heldar_cluster_leader'),
    ]).toEqual([1, 0]);
    const view = await cluster(c!);
    expect(view).toMatchObject({ leader_id: store.config.nodeId, live_nodes: 2 });
    expect(view.nodes.filter((n) => n.leader).map((n) => n.id)).toEqual([store.config.nodeId]);

    // Killed -9 again, not restarted: node-c takes the lease once it expires (15 s, store clock).
    await kill9(restarted);
    const killedAt = Date.now();
    while (Date.now() - killedAt < 25_000 && (await metric(c!, 'heldar_cluster_leader')) !== 1)
      await sleep(500);
    expect(await metric(c!, 'heldar_cluster_leader')).toBe(1);
    expect((await cluster(c!)).leader_id).toBe('node-c');
  }, 90_000);
});
