import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { SYSTEM_PRINCIPAL as SYSTEM } from '../../src/auth/principal';
import { nodeAuthKey, signNodeRequest } from '../../src/cluster/node-auth';
import { SecretBox } from '../../src/common/secret-box';
import { ffprobeJson } from '../fixtures/ffprobe';
import { freePort } from '../fixtures/free-port';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import {
  bootKernel,
  bootRefused,
  json,
  type Kernel,
  kill9,
  MAIN,
  sqliteRows,
} from '../support/kernel-process';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

/**
 * Media of footage on another node's disk (issue 18, per-node storage), with real kernel processes
 * on one PostgreSQL and a data dir each: a camera recorded by node A; node B serves a clip of it
 * (the file plays, its duration ≈ the range), a segment download (A's bytes, Range too), a
 * playback frame and a playback session; A serves the clip file B made. The node-to-node route
 * refuses an absent, forged, tampered or other-key signature (401), and a third kernel with another
 * HELDAR_SECRET_KEY refuses to start. On SQLite (one node) the node-to-node route refuses an
 * unsigned request and the kernel stores no secret check. Bounded: about 40 s on PostgreSQL.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil<T>(what: string, ms: number, fn: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

interface Seg {
  id: string;
  path: string;
  url: string;
  start_time: string;
  end_time: string;
  size_bytes: number;
}

describe(`cluster media: footage on another node's disk (${ENGINE})`, () => {
  let store: TestStore;
  let cam: TestCamera | null = null;
  let pg: Client | null = null;
  const kernels: Kernel[] = [];

  beforeAll(async () => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run \`npm run build\` first (make test does)`);
    store = await createTestStore();
  });

  afterAll(async () => {
    await pg?.end();
    for (const k of kernels) await kill9(k);
    await cam?.stop();
    await store?.cleanup();
  });

  if (ENGINE === 'postgres') {
    it('B serves a clip, a segment, a frame and a playback of footage on A; node auth and the secret key check', async () => {
      const secret = randomBytes(32).toString('base64');
      const dirs = { a: join(store.dataDir, 'node-a'), b: join(store.dataDir, 'node-b') };
      for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
      const boot = async (node: 'a' | 'b', extra: Record<string, string> = {}) => {
        const port = await freePort();
        const k = await bootKernel(store, port, {
          HELDAR_DATA_DIR: dirs[node],
          HELDAR_SECRET_KEY: secret,
          HELDAR_NODE_ID: `node-${node}`,
          HELDAR_NODE_URL: `http://127.0.0.1:${port}`,
          HELDAR_RECORDER_ENABLED: 'true',
          HELDAR_INDEXER_INTERVAL_S: '1',
          HELDAR_HEALTH_INTERVAL_S: '1',
          ...extra,
        });
        kernels.push(k);
        return k;
      };
      cam = await startTestCamera({ width: 320, height: 240, fps: 5 });
      // A records the camera (B boots once A holds it: no rebalancing moves it).
      const a = await boot('a');
      const created = await json(`${a.base}/api/v1/cameras`, {
        method: 'POST',
        body: JSON.stringify({ id: 'cm1', name: 'cm1', main_stream_url: cam.url, segment_seconds: 2 }),
      });
      expect(created.status).toBe(201);
      const listed = (k: Kernel) => json<Seg[]>(`${k.base}/api/v1/cameras/cm1/segments?limit=100`);
      await waitUntil('a segment indexed from A', 30_000, async () => {
        const r = await listed(a);
        return r.status === 200 && r.body.length >= 1 ? true : null;
      });
      const b = await boot('b');
      const segs = await waitUntil('three segments indexed from A', 30_000, async () => {
        const r = await listed(b);
        return r.status === 200 && r.body.length >= 3 ? r.body : null;
      });
      const db = new Client({ connectionString: store.databaseUrl });
      pg = db;
      await db.connect();
      const ownerOf = new Map<string, string | null>();
      const readOwners = async () => {
        for (const r of (
          await db.query<{ id: string; node_id: string | null }>('SELECT id, node_id FROM segments')
        ).rows)
          ownerOf.set(r.id, r.node_id);
      };
      const owners = await db.query<{ node_id: string | null }>('SELECT DISTINCT node_id FROM segments');
      expect(owners.rows.map((r) => r.node_id)).toEqual(['node-a']);
      const check = await db.query<{ value: string }>(
        "SELECT value FROM cluster_meta WHERE name = 'secret_check'",
      );
      expect(check.rows).toHaveLength(1);
      expect(check.rows[0].value).not.toContain(Buffer.from(secret, 'base64').toString('hex'));
      expect(check.rows[0].value).not.toContain(secret);
      // A failover without waiting 15 s: the lease handed to B (as a takeover would), so A stops
      // recording and B records on its own disk; the camera's footage is then on two nodes.
      await db.query(`UPDATE camera_leases SET node_id = 'node-b' WHERE camera_id = 'cm1'`);
      const mixed = await waitUntil('a segment of B after the last of A', 30_000, async () => {
        await readOwners();
        if (![...ownerOf.values()].includes('node-b')) return null;
        const all = (await listed(b)).body;
        const firstB = all.findIndex((x) => ownerOf.get(x.id) === 'node-b');
        return firstB > 0 && ownerOf.get(all[firstB - 1].id) === 'node-a'
          ? ([all[firstB - 1], all[firstB]] as [Seg, Seg])
          : null;
      });
      const [s1, , s3] = segs;
      expect(existsSync(join(dirs.b, 'recordings', s1.path))).toBe(false);
      const onA = readFileSync(join(dirs.a, 'recordings', s1.path));

      // A segment download through B: A's bytes, and a Range of them.
      const whole = await fetch(`${b.base}${s1.url}`, { signal: AbortSignal.timeout(10_000) });
      expect(whole.status).toBe(200);
      expect(Buffer.from(await whole.arrayBuffer()).equals(onA)).toBe(true);
      const part = await fetch(`${b.base}${s1.url}`, {
        headers: { Range: 'bytes=100-199' },
        signal: AbortSignal.timeout(10_000),
      });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 100-199/${onA.length}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(onA.subarray(100, 200))).toBe(true);

      // A clip from B over three segments of A's: 201, the file plays, its duration ≈ the range.
      const from = new Date(Date.parse(s1.start_time) + 500).toISOString();
      const to = new Date(Date.parse(s3.end_time) - 500).toISOString();
      const clip = await json<{ id: string; url: string; segment_count: number; sha256: string }>(
        `${b.base}/api/v1/cameras/cm1/clip`,
        { method: 'POST', body: JSON.stringify({ from, to }) },
      );
      expect(clip.status).toBe(201);
      expect(clip.body.segment_count).toBeGreaterThanOrEqual(3);
      const clipBytes = Buffer.from(await (await fetch(`${b.base}${clip.body.url}`)).arrayBuffer());
      expect(createHash('sha256').update(clipBytes).digest('hex')).toBe(clip.body.sha256);
      const clipFile = join(store.dataDir, 'clip.mp4');
      writeFileSync(clipFile, clipBytes);
      const duration = Number((await ffprobeJson(clipFile)).format?.duration);
      const range = (Date.parse(to) - Date.parse(from)) / 1000;
      // Stream copy cuts on keyframes (one per segment of 2 s here).
      expect(Math.abs(duration - range)).toBeLessThan(2.5);
      // A clip over the failover, asked from B: one segment from A's disk, one from B's.
      const [lastA, firstB] = mixed;
      expect(existsSync(join(dirs.a, 'recordings', lastA.path))).toBe(true);
      expect(existsSync(join(dirs.b, 'recordings', firstB.path))).toBe(true);
      const bothFrom = Date.parse(lastA.start_time);
      const bothTo = Date.parse(firstB.end_time);
      const both = await json<{ url: string; segment_count: number }>(`${b.base}/api/v1/cameras/cm1/clip`, {
        method: 'POST',
        body: JSON.stringify({ from: lastA.start_time, to: firstB.end_time }),
      });
      expect(both.status).toBe(201);
      // The segments of the range (A may have closed one more after B's first began: they overlap).
      await readOwners();
      const inRange = (await listed(b)).body.filter(
        (x) => Date.parse(x.start_time) < bothTo && Date.parse(x.end_time) > bothFrom,
      );
      expect(new Set(inRange.map((x) => ownerOf.get(x.id)))).toEqual(new Set(['node-a', 'node-b']));
      expect(both.body.segment_count).toBe(inRange.length);
      const bothFile = join(store.dataDir, 'both.mp4');
      writeFileSync(bothFile, Buffer.from(await (await fetch(`${b.base}${both.body.url}`)).arrayBuffer()));
      const bothS = Number((await ffprobeJson(bothFile)).format?.duration);
      // Stream copy of the files in order, cut to the range: what they hold, at most the range.
      const held = inRange.reduce(
        (n, x) => n + (Date.parse(x.end_time) - Date.parse(x.start_time)) / 1000,
        0,
      );
      expect(Math.abs(bothS - Math.min(held, (bothTo - bothFrom) / 1000))).toBeLessThan(2.5);
      // No temporary copy of A's segments is left on B.
      const tmp = join(dirs.b, 'tmp', 'remote-segments');
      expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
      // The clip file stays on B's disk; A serves it through B.
      const viaA = await fetch(`${a.base}${clip.body.url}`, { signal: AbortSignal.timeout(10_000) });
      expect(viaA.status).toBe(200);
      expect(Buffer.from(await viaA.arrayBuffer()).equals(clipBytes)).toBe(true);

      // A scrubbing frame and a playback session on B of footage on A.
      const at = new Date(Date.parse(s1.start_time) + 1000).toISOString();
      const frame = await fetch(`${b.base}/api/v1/cameras/cm1/playback/frame?at=${encodeURIComponent(at)}`);
      expect(frame.status).toBe(200);
      expect(frame.headers.get('content-type')).toBe('image/jpeg');
      expect(
        Buffer.from(await frame.arrayBuffer())
          .subarray(0, 2)
          .toString('hex'),
      ).toBe('ffd8');
      const pb = await json<{ playlist_url: string; segment_count: number; skipped_segments: number }>(
        `${b.base}/api/v1/cameras/cm1/playback`,
        { method: 'POST', body: JSON.stringify({ from: s1.start_time, to: s3.end_time }) },
      );
      expect(pb.status).toBe(201);
      expect(pb.body).toMatchObject({ skipped_segments: 0 });
      expect(pb.body.segment_count).toBeGreaterThanOrEqual(3);
      const playlist = await (await fetch(`${b.base}${pb.body.playlist_url}`)).text();
      const firstUri = playlist.split('\n').find((l) => l.startsWith(`${s1.id}.mp4`));
      expect(firstUri).toBeDefined();
      const pbFile = await fetch(
        `${b.base}/media/playback/${pb.body.playlist_url.split('/')[3]}/${firstUri}`,
      );
      expect(pbFile.status).toBe(200);
      expect(Buffer.from(await pbFile.arrayBuffer()).equals(onA)).toBe(true);

      // The node-to-node route on A: only a signature made with the cluster's key passes.
      const path = `/internal/v1/segments/${s1.id}`;
      const key = nodeAuthKey(new SecretBox(Buffer.from(secret, 'base64')));
      const signed = signNodeRequest(key, 'GET', path, 'node-b', SYSTEM, Date.now());
      const get = (p: string, headers: Record<string, string>) =>
        fetch(`${a.base}${p}`, { headers, signal: AbortSignal.timeout(10_000) });
      const ok = await get(path, signed);
      expect(ok.status).toBe(200);
      expect(Buffer.from(await ok.arrayBuffer()).equals(onA)).toBe(true);
      const otherKey = nodeAuthKey(new SecretBox(randomBytes(32)));
      const refused: Array<[string, string, Record<string, string>]> = [
        ['absent', path, {}],
        ['forged', path, { ...signed, 'x-heldar-node-signature': 'ab'.repeat(32) }],
        ['another key', path, signNodeRequest(otherKey, 'GET', path, 'node-b', SYSTEM, Date.now())],
        ['another path', `/internal/v1/segments/${s3.id}`, signed],
        ['stale', path, signNodeRequest(key, 'GET', path, 'node-b', SYSTEM, Date.now() - 6 * 60_000)],
      ];
      for (const [what, p, headers] of refused) {
        const r = await get(p, headers);
        expect({ what, status: r.status, body: await r.json() }).toEqual({
          what,
          status: 401,
          body: { error: expect.stringContaining('node-to-node signature'), code: 'UNAUTHORIZED' },
        });
      }

      // A third kernel with another secret key refuses to start, naming HELDAR_SECRET_KEY.
      const otherSecret = randomBytes(32).toString('base64');
      const dirC = join(store.dataDir, 'node-c');
      mkdirSync(dirC, { recursive: true });
      const c = await bootRefused(store, await freePort(), {
        HELDAR_DATA_DIR: dirC,
        HELDAR_SECRET_KEY: otherSecret,
        HELDAR_NODE_ID: 'node-c',
        HELDAR_RECORDER_ENABLED: 'false',
      });
      expect(c.code).not.toBe(0);
      expect(c.out).toContain('HELDAR_SECRET_KEY differs from the key the other nodes of this cluster use');
      expect(c.out).not.toContain(otherSecret);
      expect(c.out).not.toContain(secret);
      const nodes = await json<{ nodes: Array<{ id: string }> }>(`${b.base}/api/v1/cluster`);
      expect(nodes.body.nodes.map((n) => n.id)).not.toContain('node-c');

      // The owner gone (kill -9): B answers 503 naming it, at once (no hang).
      await kill9(a);
      const gone = await json<{ error: string; code: string }>(`${b.base}${s1.url}`);
      expect(gone.status).toBe(503);
      expect(gone.body.code).toBe('NODE_UNAVAILABLE');
      expect(gone.body.error).toContain('node-a');
    }, 90_000);
  } else {
    it('one SQLite node: the node-to-node route refuses an unsigned request; no secret check is stored', async () => {
      const k = await bootKernel(store, await freePort());
      kernels.push(k);
      const r = await json<{ error: string; code: string }>(`${k.base}/internal/v1/segments/seg_x`);
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('UNAUTHORIZED');
      const c = await json<{ code: string }>(`${k.base}/internal/v1/clips/clip_x`);
      expect(c.status).toBe(401);
      expect(sqliteRows(store, 'SELECT name FROM cluster_meta')).toEqual([]);
    }, 30_000);
  }
});
