import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildRecordArgs } from '../../src/media/ffmpeg-args';
import { ExportsService } from '../../src/exports/exports.service';
import { readFragmentIndex } from '../../src/media/mp4-fragments';
import { PLAYBACK_REVALIDATE_MS, PlaybackService } from '../../src/playback/playback.service';
import { IndexerService } from '../../src/timeline/indexer.service';
import { startTestCamera, type TestCamera } from '../fixtures/test-camera';
import { startTestApp, type TestApp, waitFor, withClockAhead } from '../support/test-app';
import { ENGINE } from '../support/test-db';

const ADMIN = { username: 'root', password: 'root-password-1' };
const SEGMENT_S = 2;
/** Frame interval of the test camera (5 fps). */
const FRAME_S = 0.2;

interface Segment {
  id: string;
  path: string;
  start_time: string;
  end_time: string;
  duration_s: number;
  size_bytes: number;
  locked: number;
}

const run = (cmd: string, args: string[], timeoutMs = 60_000) =>
  new Promise<string>((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });

/** Records `seconds` of the RTSP test camera with the recorder's own ffmpeg arguments. */
async function recordReal(url: string, outDir: string, seconds: number): Promise<string[]> {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  for (const d of [new Date(), new Date(Date.now() + 86_400_000)])
    mkdirSync(join(outDir, day(d)), { recursive: true });
  const child = spawn(
    'ffmpeg',
    buildRecordArgs({ url, recordAudio: false, segmentSeconds: SEGMENT_S }, outDir),
    {
      env: { ...process.env, TZ: 'UTC' },
      stdio: ['pipe', 'ignore', 'ignore'],
    },
  );
  await new Promise((r) => setTimeout(r, seconds * 1000));
  child.stdin.write('q');
  await new Promise((r) => child.once('exit', r));
  return readdirSync(outDir)
    .flatMap((d) => readdirSync(join(outDir, d)).map((f) => join(outDir, d, f)))
    .sort();
}

const name = (ms: number) =>
  `${new Date(ms).toISOString().slice(0, 10)}/${new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15)}.mp4`;

/** A strict reading of an HLS media playlist (RFC 8216): throws on anything out of place. */
interface HlsSegment {
  uri: string;
  durationS: number;
  pdtMs: number;
  range: { offset: number; length: number };
  map: { uri: string; offset: number; length: number };
  discontinuity: boolean;
}
function parsePlaylist(text: string): {
  version: number;
  target: number;
  type: string;
  ended: boolean;
  segments: HlsSegment[];
} {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines[0] !== '#EXTM3U') throw new Error('no #EXTM3U');
  let version = 0;
  let target = 0;
  let type = '';
  let ended = false;
  let map: HlsSegment['map'] | null = null;
  let mapFresh = false;
  let pending: Partial<HlsSegment> = {};
  let discontinuity = false;
  const segments: HlsSegment[] = [];
  const range = (v: string) => {
    const m = /^(\d+)@(\d+)$/.exec(v);
    if (!m) throw new Error(`bad byte range ${v}`);
    return { length: Number(m[1]), offset: Number(m[2]) };
  };
  for (const line of lines.slice(1)) {
    if (ended) throw new Error(`line after ENDLIST: ${line}`);
    if (line.startsWith('#EXT-X-VERSION:')) version = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) target = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-PLAYLIST-TYPE:')) type = line.split(':')[1];
    else if (line === '#EXT-X-MEDIA-SEQUENCE:0' || line === '#EXT-X-INDEPENDENT-SEGMENTS') continue;
    else if (line === '#EXT-X-DISCONTINUITY') {
      discontinuity = true;
      mapFresh = false;
    } else if (line.startsWith('#EXT-X-MAP:')) {
      const m = /^#EXT-X-MAP:URI="([^"]+)",BYTERANGE="(\d+@\d+)"$/.exec(line);
      if (!m) throw new Error(`bad MAP ${line}`);
      map = { uri: m[1], ...range(m[2]) };
      mapFresh = true;
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pending.pdtMs = Date.parse(line.slice(25));
    else if (line.startsWith('#EXTINF:')) pending.durationS = Number(/^#EXTINF:([\d.]+),$/.exec(line)![1]);
    else if (line.startsWith('#EXT-X-BYTERANGE:')) pending.range = range(line.slice(17));
    else if (line === '#EXT-X-ENDLIST') ended = true;
    else if (line.startsWith('#')) throw new Error(`unexpected tag ${line}`);
    else {
      if (!map) throw new Error('a segment before any MAP');
      if (discontinuity && !mapFresh) throw new Error('no MAP after a discontinuity');
      if (pending.durationS === undefined || pending.pdtMs === undefined || !pending.range)
        throw new Error(`segment ${line} lacks EXTINF, PROGRAM-DATE-TIME or BYTERANGE`);
      segments.push({ ...(pending as HlsSegment), uri: line, map, discontinuity });
      pending = {};
      discontinuity = false;
      mapFresh = false;
    }
  }
  return { version, target, type, ended, segments };
}

/** framemd5 packet hashes (the last column) of a file or URL, stream copy. */
async function packetHashes(input: string, extra: string[] = []): Promise<string[]> {
  const out = await run('ffmpeg', [
    '-v',
    'error',
    ...extra,
    '-i',
    input,
    '-map',
    '0:v',
    '-c',
    'copy',
    '-f',
    'framemd5',
    '-',
  ]);
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').pop()!.trim());
}

describe(`playback: HLS over the recorded files (${ENGINE})`, () => {
  let t: TestApp;
  let cam: TestCamera;
  let adminToken: string;
  let keyA: string;
  let keyAId: string;
  let keyB: string;
  const work = mkdtempSync(join(tmpdir(), 'heldar-pb-'));
  let segs: Segment[] = [];
  let spare: string[] = [];
  let whole: string[] = [];
  let T0 = 0;
  let gapStartMs = 0;
  let gapEndMs = 0;
  const admin = () => ({ Authorization: `Bearer ${adminToken}` });
  const place = (src: string, atMs: number, cameraId = 'pb') => {
    const p = join(t.store.config.recordingsDirAbs, cameraId, name(atMs));
    mkdirSync(dirname(p), { recursive: true });
    copyFileSync(src, p);
    utimesSync(p, (atMs + 30_000) / 1000, (atMs + 30_000) / 1000);
  };
  const segments = async (cameraId = 'pb') =>
    (await t.http().get(`/api/v1/cameras/${cameraId}/segments?limit=5000`).set(admin()).expect(200))
      .body as Segment[];

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        HELDAR_AUTH_ENABLED: 'true',
        HELDAR_BOOTSTRAP_ADMIN_USER: ADMIN.username,
        HELDAR_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        HELDAR_LOGIN_RATE_LIMIT_PER_MIN: '0',
        HELDAR_INDEXER_INTERVAL_S: '3600',
        HELDAR_RETENTION_INTERVAL_S: '86400',
        HELDAR_PLAYBACK_SESSION_TTL_S: '60',
      },
    });
    adminToken = (await t.http().post('/api/v1/auth/login').send(ADMIN).expect(200)).body.token;
    for (const id of ['pb', 'pb_other'])
      await t
        .http()
        .post('/api/v1/cameras')
        .set(admin())
        .send({ id, name: id, segment_seconds: SEGMENT_S })
        .expect(201);
    const mkKey = async (scope: string) =>
      (
        await t
          .http()
          .post('/api/v1/api-keys')
          .set(admin())
          .send({
            name: `scoped ${scope}`,
            capabilities: ['camera:read', 'video:playback'],
            scope_kind: 'cameras',
            scope_cameras: [scope],
          })
          .expect(201)
      ).body.key as string;
    keyA = await mkKey('pb');
    keyAId = (
      (await t.http().get('/api/v1/api-keys').set(admin()).expect(200)).body as Array<{
        id: string;
        name: string;
      }>
    ).find((k) => k.name === 'scoped pb')!.id;
    keyB = await mkKey('pb_other');

    // Real footage: the RTSP test camera recorded with the recorder's arguments (2 s segments).
    cam = await startTestCamera({ width: 320, height: 240, fps: 5 });
    const files = await recordReal(cam.url, join(work, 'rec'), 22);
    await cam.stop();
    // The first and last files are partial (connect, stop): the whole ones in between are used.
    whole = files.slice(1, -1);
    expect(whole.length).toBeGreaterThanOrEqual(8);
    // Placed ten minutes ago as 2 s segments: five, a 7 s hole (2 s of missing footage + 5 s), then three.
    T0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
    const at = (i: number) => T0 + i * 2000 + (i >= 5 ? 7000 : 0);
    whole.slice(0, 8).forEach((f, i) => place(f, at(i)));
    spare = whole.slice(8);
    await t.app.get(IndexerService).scanCamera('pb');
    segs = await segments();
    expect(segs).toHaveLength(8);
    gapStartMs = Date.parse(segs[4].end_time);
    gapEndMs = Date.parse(segs[5].start_time);
    expect(gapEndMs - gapStartMs).toBeGreaterThan(5000);
  }, 120_000);

  afterAll(async () => {
    await cam?.stop();
    await t?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const open = (body: Record<string, string>, headers: Record<string, string> = admin()) =>
    t.http().post('/api/v1/cameras/pb/playback').set(headers).send(body);

  it('a closed range: a strict HLS v7 playlist whose byte ranges are the files, PDT on every fragment, the gap where it was', async () => {
    const from = segs[0].start_time;
    const to = segs[7].end_time;
    const res = await open({ from, to });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      camera_id: 'pb',
      from,
      to,
      segment_count: 8,
      mode: 'fmp4',
      skipped_segments: 0,
    });
    expect(res.body.id).toMatch(/^pbs_/);
    expect(res.body.playlist_url).toMatch(
      new RegExp(`^/media/playback/${res.body.id}/index\\.m3u8\\?token=`),
    );
    expect(res.body.gaps).toEqual([
      expect.objectContaining({ start: segs[4].end_time, end: segs[5].start_time }),
    ]);
    const covered = segs.reduce((s, x) => s + x.duration_s, 0);
    expect(Math.abs(res.body.duration_s - covered)).toBeLessThanOrEqual(FRAME_S);

    const pl = await t.http().get(res.body.playlist_url).expect(200);
    expect(pl.headers['content-type']).toMatch(/application\/vnd\.apple\.mpegurl/);
    const hls = parsePlaylist(pl.text);
    expect(hls).toMatchObject({ version: 7, type: 'VOD', ended: true });
    const token = new URL(res.body.playlist_url, t.baseUrl).searchParams.get('token')!;
    // Every fragment: rounded duration within the target, URI and MAP carry the token, byte range inside its file.
    const fileOf = (uri: string) => segs.find((s) => uri.startsWith(`${s.id}.mp4?`))!;
    for (const s of hls.segments) {
      expect(Math.round(s.durationS)).toBeLessThanOrEqual(hls.target);
      for (const uri of [s.uri, s.map.uri]) {
        expect(new URL(uri, 'http://x/').searchParams.get('token')).toBe(token);
        expect(fileOf(uri)).toBeDefined();
      }
      const size = fileOf(s.uri).size_bytes;
      expect(s.range.offset).toBeGreaterThanOrEqual(s.map.length);
      expect(s.range.offset + s.range.length).toBeLessThanOrEqual(size);
      expect(s.map.offset).toBe(0);
    }
    // One file after another: a discontinuity (and a new MAP) exactly at each file's first fragment.
    const firsts = hls.segments.filter((s, i) => i === 0 || s.uri !== hls.segments[i - 1].uri);
    expect(firsts.map((s) => fileOf(s.uri).id)).toEqual(segs.map((s) => s.id));
    expect(hls.segments.filter((s) => s.discontinuity)).toEqual(firsts.slice(1));
    // Program date-times: each file's first fragment at the segment's start, then contiguous.
    for (const f of firsts) expect(f.pdtMs).toBe(Date.parse(fileOf(f.uri).start_time));
    hls.segments.forEach((s, i) => {
      const prev = hls.segments[i - 1];
      if (prev && !s.discontinuity)
        expect(Math.abs(s.pdtMs - (prev.pdtMs + prev.durationS * 1000))).toBeLessThan(2);
    });
    // The hole: the only jump of the program date-time, from the 5th file's end to the 6th's start.
    const jumps = hls.segments
      .map((s, i) =>
        i === 0 ? 0 : s.pdtMs - (hls.segments[i - 1].pdtMs + hls.segments[i - 1].durationS * 1000),
      )
      .map((d, i) => [i, d] as const)
      .filter(([, d]) => d > 1000);
    expect(jumps).toHaveLength(1);
    expect(hls.segments[jumps[0][0]].pdtMs).toBe(gapEndMs);
    await t.http().delete(`/api/v1/playback/${res.body.id}`).set(admin()).expect(204);
  });

  it('ffmpeg reads the session with -c copy: the covered seconds within a frame, packets identical to the recorded files', async () => {
    const res = await open({ from: segs[0].start_time, to: segs[7].end_time }).expect(201);
    const url = `${t.baseUrl}${res.body.playlist_url}`;
    const out = join(work, 'copy.mp4');
    await run('ffmpeg', ['-v', 'error', '-i', url, '-c', 'copy', '-y', out], 120_000);
    const probe = JSON.parse(
      await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'json', out]),
    ) as { format: { duration: string } };
    const covered = segs.reduce((s, x) => s + x.duration_s, 0);
    expect(Math.abs(Number(probe.format.duration) - covered)).toBeLessThanOrEqual(FRAME_S);
    const source: string[] = [];
    for (const s of segs) source.push(...(await packetHashes(join(t.store.config.recordingsDirAbs, s.path))));
    expect(await packetHashes(url)).toEqual(source);
    await t.http().delete(`/api/v1/playback/${res.body.id}`).set(admin()).expect(204);
  }, 180_000);

  it('a session without `to` is an EVENT playlist that lists segments indexed after it opened', async () => {
    const res = await open({ from: segs[5].start_time }).expect(201);
    expect(res.body).toMatchObject({ to: null, segment_count: 3 });
    const first = parsePlaylist((await t.http().get(res.body.playlist_url).expect(200)).text);
    expect(first).toMatchObject({ type: 'EVENT', ended: false });
    const before = new Set(first.segments.map((s) => s.uri.split('?')[0]));
    expect(before.size).toBe(3);
    // Two more segments are recorded and indexed after the 8th.
    const next = Date.parse(segs[7].end_time);
    place(spare[0] ?? whole[1], next);
    place(spare[1] ?? whole[2], next + 2000);
    await t.app.get(IndexerService).scanCamera('pb');
    const added = (await segments()).slice(8);
    expect(added).toHaveLength(2);
    const grown = await waitFor(
      async () => {
        const p = parsePlaylist((await t.http().get(res.body.playlist_url).expect(200)).text);
        return new Set(p.segments.map((s) => s.uri.split('?')[0])).size === 5 ? p : null;
      },
      10_000,
      'the playlist to grow',
    );
    expect([...new Set(grown.segments.map((s) => s.uri.split('?')[0]))]).toEqual([
      ...before,
      ...added.map((s) => `${s.id}.mp4`),
    ]);
    expect(grown.type).toBe('EVENT');
    segs = await segments();
    await t.http().delete(`/api/v1/playback/${res.body.id}`).set(admin()).expect(204);
  });

  it('a key scoped to another camera: 403 on opening, on the session, the playlist and every byte range', async () => {
    const res = await open({ from: segs[0].start_time, to: segs[2].end_time }, { 'X-API-Key': keyA }).expect(
      201,
    );
    const id = res.body.id as string;
    const playlist = await t.http().get(res.body.playlist_url).expect(200);
    const uris = parsePlaylist(playlist.text).segments.map((s) => s.uri);
    const other = { 'X-API-Key': keyB };
    expect((await open({ from: segs[0].start_time }, other)).status).toBe(403);
    const del = await t.http().delete(`/api/v1/playback/${id}`).set(other).expect(403);
    expect(del.body.code).toBe('CAMERA_SCOPE');
    const bare = `/media/playback/${id}/index.m3u8`;
    expect((await t.http().get(bare).set(other)).status).toBe(403);
    expect((await t.http().get(res.body.playlist_url).set(other)).status).toBe(403);
    for (const uri of uris.slice(0, 3)) {
      const path = `/media/playback/${id}/${uri}`;
      const ok = await t.http().get(path).set('Range', 'bytes=0-99').expect(206);
      expect(ok.body.length ?? ok.text.length).toBeGreaterThan(0);
      const denied = await t.http().get(path).set('Range', 'bytes=0-99').set(other);
      expect({ path, status: denied.status }).toEqual({ path, status: 403 });
      expect(
        (
          await t
            .http()
            .get(`/media/playback/${id}/${uri.split('?')[0]}`)
            .set('Range', 'bytes=0-99')
        ).status,
      ).toBe(403);
    }
    // No token, no credential; a forged token; a segment that is not the session's.
    expect((await t.http().get(bare)).status).toBe(403);
    expect((await t.http().get(`${bare}?token=v1.9999999999.k.eA.${'A'.repeat(43)}`)).status).toBe(403);
    const token = new URL(res.body.playlist_url, t.baseUrl).searchParams.get('token')!;
    expect(
      (await t.http().get(`/media/playback/${id}/${segs[7].id}.mp4?token=${encodeURIComponent(token)}`))
        .status,
    ).toBe(404);
    expect((await t.http().get(`/media/playback/${id}/..%2fx.mp4?token=x`)).status).toBe(400);
    // Closed by its owner: the token opens nothing any more.
    await t.http().delete(`/api/v1/playback/${id}`).set({ 'X-API-Key': keyA }).expect(204);
    expect((await t.http().get(res.body.playlist_url)).status).toBe(404);
  });

  it('bad input: 400 in the error envelope; no footage: 404; a range over HELDAR_MAX_PLAYBACK_HOURS: 400', async () => {
    for (const body of [
      {},
      { from: 'yesterday' },
      { from: segs[0].start_time, to: 'soon' },
      { from: segs[2].start_time, to: segs[0].start_time },
      { from: new Date(T0 - 25 * 3_600_000).toISOString(), to: segs[0].start_time },
      { from: new Date(Date.now() + 3_600_000).toISOString() },
      { from: segs[0].start_time, extra: 'x' },
    ]) {
      const res = await open(body as Record<string, string>);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(typeof res.body.error).toBe('string');
      expect(typeof res.body.code).toBe('string');
    }
    const none = await open({
      from: new Date(T0 - 3_600_000).toISOString(),
      to: new Date(T0 - 1_800_000).toISOString(),
    });
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('NO_FOOTAGE');
    expect((await t.http().delete('/api/v1/playback/nope').set(admin())).status).toBe(400);
    expect((await t.http().delete('/api/v1/playback/pbs_nope').set(admin())).status).toBe(404);
  });

  it('one view_playback audit row per session with its camera and range, found by action=view_* and camera_id', async () => {
    const from = segs[1].start_time;
    const to = segs[3].end_time;
    const res = await open({ from, to }, { 'X-API-Key': keyA }).expect(201);
    for (let i = 0; i < 3; i++) await t.http().get(res.body.playlist_url).expect(200);
    const rows = (
      await t.http().get('/api/v1/audit?action=view_*&camera_id=pb&limit=1000').set(admin()).expect(200)
    ).body.entries as Array<{
      action: string;
      target_id: string;
      subject_camera_id: string;
      detail: Record<string, unknown>;
    }>;
    const mine = rows.filter((r) => r.target_id === res.body.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      action: 'view_playback',
      subject_camera_id: 'pb',
      detail: expect.objectContaining({ camera_id: 'pb', from, to }),
    });
    expect(rows.every((r) => r.action.startsWith('view_') && r.subject_camera_id === 'pb')).toBe(true);
    await t.http().delete(`/api/v1/playback/${res.body.id}`).set(admin()).expect(204);
  });

  it('a segment download and a snapshot write one view row each per viewer (not one per byte range); camera_id selects them', async () => {
    const h = { 'X-API-Key': keyA };
    const url = (await segments())[0];
    const media = `/media/recordings/pb/${url.path.split('/').slice(1).join('/')}`;
    for (const range of ['bytes=0-99', 'bytes=100-199', 'bytes=200-'])
      await t.http().get(media).set(h).set('Range', range).expect(206);
    const at = new Date(Date.parse(segs[1].start_time) + 500).toISOString();
    await t
      .http()
      .get(`/api/v1/cameras/pb/snapshot?at=${encodeURIComponent(at)}`)
      .set(h)
      .expect(200);
    await t
      .http()
      .get(`/api/v1/cameras/pb/snapshot?at=${encodeURIComponent(at)}`)
      .set(h)
      .expect(200);
    const query = async (q: string) =>
      (await t.http().get(`/api/v1/audit?${q}&limit=1000`).set(admin()).expect(200)).body.entries as Array<
        Record<string, unknown>
      >;
    const keyId = keyAId;
    const mine = (await query('action=view_*&camera_id=pb')).filter((r) => r.actor_id === keyId);
    expect(mine.filter((r) => r.action === 'view_segment')).toEqual([
      expect.objectContaining({
        target_type: 'recording',
        target_id: url.path,
        subject_camera_id: 'pb',
      }),
    ]);
    expect(mine.filter((r) => r.action === 'view_snapshot')).toEqual([
      expect.objectContaining({
        target_id: 'pb',
        subject_camera_id: 'pb',
        detail: { camera_id: 'pb', at, live: false },
      }),
    ]);
    expect((await query('action=view_*&camera_id=pb_other')).filter((r) => r.actor_id === keyId)).toEqual([]);
    // The prefix is literal (a `%` in it is no wildcard).
    expect(await query('action=%25*')).toEqual([]);
  });

  it('frame?at= answers the JPEG of the nearest keyframe, cached per keyframe; no footage 404, bad input 400', async () => {
    const snap = jest.spyOn(t.app.get(ExportsService), 'snapshot');
    try {
      const start = Date.parse(segs[1].start_time);
      const get = (ms: number) =>
        t
          .http()
          .get(`/api/v1/cameras/pb/playback/frame?at=${encodeURIComponent(new Date(ms).toISOString())}`)
          .set(admin())
          .buffer(true)
          .parse((r, cb) => {
            const chunks: Buffer[] = [];
            r.on('data', (c: Buffer) => chunks.push(c));
            r.on('end', () => cb(null, Buffer.concat(chunks)));
          });
      // The test camera sends a keyframe every second: 1.3 s in is nearest to the one at 1 s.
      const a = await get(start + 1300).expect(200);
      expect(a.headers['content-type']).toBe('image/jpeg');
      expect(a.headers['x-heldar-frame-time']).toBe(new Date(start + 1000).toISOString());
      expect((a.body as Buffer).subarray(0, 2).toString('hex')).toBe('ffd8');
      const b = await get(start + 900).expect(200); // the same keyframe: from the cache
      expect(b.headers['x-heldar-frame-time']).toBe(new Date(start + 1000).toISOString());
      expect(b.body).toEqual(a.body);
      expect(snap).toHaveBeenCalledTimes(1);
      expect(snap).toHaveBeenCalledWith('pb', new Date(start + 1000).toISOString());
      const c = await get(start + 100).expect(200);
      expect(c.headers['x-heldar-frame-time']).toBe(new Date(start).toISOString());
      expect(snap).toHaveBeenCalledTimes(2);
      const hole = await get(gapStartMs + 2500).expect(404);
      expect(hole.body.toString()).toContain('NO_FOOTAGE');
      const bad = await t.http().get('/api/v1/cameras/pb/playback/frame?at=noon').set(admin()).expect(400);
      expect(typeof bad.body.code).toBe('string');
      await t.http().get('/api/v1/cameras/pb/playback/frame').set(admin()).expect(400);
      await t
        .http()
        .get(`/api/v1/cameras/pb/playback/frame?at=${encodeURIComponent(segs[0].start_time)}`)
        .set({ 'X-API-Key': keyB })
        .expect(403);
    } finally {
      snap.mockRestore();
    }
  });

  it('a session nobody requests for HELDAR_PLAYBACK_SESSION_TTL_S closes: its read-locks go, its URLs answer 404', async () => {
    const res = await open({ from: segs[0].start_time, to: segs[1].end_time }).expect(201);
    const lockOf = async (id: string) => (await segments()).find((s) => s.id === id)!.locked;
    expect(await lockOf(segs[0].id)).toBe(1);
    expect(await lockOf(segs[1].id)).toBe(1);
    expect(await lockOf(segs[2].id)).toBe(0);
    const service = t.app.get(PlaybackService);
    // Requested 50 s later: still open (the TTL counts from the last request).
    await withClockAhead(t, 50_000, async () => {
      await t.http().get(res.body.playlist_url).expect(200);
      expect(await service.reapIdle()).toBe(0);
    });
    const lazy = await open({ from: segs[2].start_time, to: segs[2].end_time }).expect(201);
    expect(await lockOf(segs[2].id)).toBe(1);
    // The reaper loop (every 5 s) may come by inside the window too: count what every call reaps.
    const reaps = jest.spyOn(service, 'reapIdle');
    await withClockAhead(t, 115_000, async () => {
      // Met by a request before the reaper came by: closed there.
      const late = await t.http().get(lazy.body.playlist_url).expect(404);
      expect(late.body.code).toBe('PLAYBACK_NOT_FOUND');
      await service.reapIdle();
      const reaped = await Promise.all(reaps.mock.results.map((r) => r.value as Promise<number>));
      expect(reaped.reduce((a, b) => a + b, 0)).toBe(1); // the first session, once
    });
    reaps.mockRestore();
    expect(await lockOf(segs[2].id)).toBe(0);
    expect(await lockOf(segs[0].id)).toBe(0);
    expect(await lockOf(segs[1].id)).toBe(0);
    const gone = await t.http().get(res.body.playlist_url).expect(404);
    expect(gone.body.code).toBe('PLAYBACK_NOT_FOUND');
    await t.http().delete(`/api/v1/playback/${res.body.id}`).set(admin()).expect(404);
  });

  it('retention under a cap never deletes a segment an open session lists; after DELETE it does', async () => {
    const all = await segments();
    const held = all.slice(5, 8);
    const res = await open({ from: held[0].start_time, to: held[2].end_time }).expect(201);
    expect(res.body.segment_count).toBe(3);
    const heldBytes = held.reduce((n, s) => n + s.size_bytes, 0);
    const cap = async (bytes: number) =>
      t
        .http()
        .put('/api/v1/system/retention')
        .set(admin())
        .send({ max_recordings_gb: bytes / 1024 ** 3 })
        .expect(200);
    // Room for the held footage and half a segment: every other segment must go.
    await cap(heldBytes + Math.floor(held[0].size_bytes / 2));
    const first = (await t.http().post('/api/v1/system/retention/sweep').set(admin()).expect(200)).body;
    expect(first.size_cap.deleted).toBe(all.length - 3);
    const left = await segments();
    expect(left.map((s) => s.id)).toEqual(held.map((s) => s.id));
    for (const s of held)
      expect(statSync(join(t.store.config.recordingsDirAbs, s.path)).size).toBe(s.size_bytes);
    // Closed: the same footage is no longer protected, and a cap below it takes it.
    await t.http().delete(`/api/v1/playback/${res.body.id}`).set(admin()).expect(204);
    await cap(held[0].size_bytes);
    await t.http().post('/api/v1/system/retention/sweep').set(admin()).expect(200);
    expect((await segments()).length).toBeLessThanOrEqual(1);
  });

  it('a reload reads only the newest file and the newly indexed ones; a file deleted or replaced on disk leaves or changes the playlist', async () => {
    const service = t.app.get(PlaybackService);
    const T1 = T0 + 120_000;
    whole.slice(0, 3).forEach((f, i) => place(f, T1 + i * 2000, 'pb_other'));
    await t.app.get(IndexerService).scanCamera('pb_other');
    const mine = await segments('pb_other');
    expect(mine).toHaveLength(3);
    const abs = (x: Segment) => join(t.store.config.recordingsDirAbs, x.path);
    const url = (
      await t
        .http()
        .post('/api/v1/cameras/pb_other/playback')
        .set(admin())
        .send({ from: mine[0].start_time })
        .expect(201)
    ).body.playlist_url as string;
    const id = url.split('/')[3];
    const listed = async () => {
      const p = parsePlaylist((await t.http().get(url).expect(200)).text);
      return p.segments;
    };
    const filesOf = (xs: HlsSegment[]) => [...new Set(xs.map((x) => x.uri.split('?')[0]))];
    const first = await listed();
    expect(filesOf(first)).toEqual(mine.map((x) => `${x.id}.mp4`));
    const reads = jest.spyOn(service.fragments, 'get');
    try {
      // A reload: the finished files are neither stat'ed nor read, only the newest one (it may grow).
      const again = await listed();
      expect(again).toEqual(first);
      expect(reads.mock.calls.map(([p]) => p)).toEqual([abs(mine[2])]);
      // Two more segments indexed: the reloads read them and the newest, none of the finished ones.
      reads.mockClear();
      place(whole[3], T1 + 6000, 'pb_other');
      place(whole[4], T1 + 8000, 'pb_other');
      await t.app.get(IndexerService).scanCamera('pb_other');
      const grownRows = await segments('pb_other');
      expect(grownRows).toHaveLength(5);
      const grown = await waitFor(
        async () => {
          const xs = await listed();
          return filesOf(xs).length === 5 ? xs : null;
        },
        10_000,
        'the playlist to grow',
      );
      expect(filesOf(grown)).toEqual(grownRows.map((x) => `${x.id}.mp4`));
      expect(grown.slice(0, first.length)).toEqual(first);
      const touched = new Set(reads.mock.calls.map(([p]) => p));
      // (the third was the newest until the two arrived: a reload before them read it again)
      for (const x of grownRows.slice(0, 2)) expect(touched.has(abs(x))).toBe(false);
      for (const x of grownRows.slice(3)) expect(touched.has(abs(x))).toBe(true);
      expect(touched.size).toBeLessThanOrEqual(3);
    } finally {
      reads.mockRestore();
    }
    const rows = await segments('pb_other');
    // A finished file deleted on disk: its bytes answer 404, the next playlist no longer lists it, its read-lock goes.
    const [gone, replaced] = rows;
    const goneUri = (await listed()).find((x) => x.uri.startsWith(`${gone.id}.mp4?`))!.uri;
    rmSync(abs(gone));
    const miss = await t.http().get(`/media/playback/${id}/${goneUri}`).set('Range', 'bytes=0-99');
    expect(miss.status).toBe(404);
    expect(miss.body.code).toBe('PLAYBACK_SEGMENT_GONE');
    const after = await listed();
    expect(filesOf(after)).toEqual(rows.slice(1).map((x) => `${x.id}.mp4`));
    expect((await segments('pb_other')).find((x) => x.id === gone.id)!.locked).toBe(0);
    // A finished file replaced on disk (nothing requested of it): the periodic re-check lists its new byte ranges.
    const before = after.filter((x) => x.uri.startsWith(`${replaced.id}.mp4?`));
    copyFileSync(whole[7], abs(replaced));
    utimesSync(abs(replaced), (T1 + 5000) / 1000, (T1 + 5000) / 1000);
    const index = (await readFragmentIndex(abs(replaced)))!;
    const fresh = index.fragments.map((f) => [f.offset, f.length, index.initLength]);
    expect(fresh).not.toEqual(before.map((x) => [x.range.offset, x.range.length, x.map.length]));
    const rangesNow = async () =>
      (await listed())
        .filter((x) => x.uri.startsWith(`${replaced.id}.mp4?`))
        .map((x) => [x.range.offset, x.range.length, x.map.length]);
    // Within the re-check period a reload still serves what it rendered (no stat of finished files).
    expect(await rangesNow()).toEqual(before.map((x) => [x.range.offset, x.range.length, x.map.length]));
    await withClockAhead(t, PLAYBACK_REVALIDATE_MS + 1000, async () => {
      expect(await rangesNow()).toEqual(fresh);
    });
    await t.http().delete(`/api/v1/playback/${id}`).set(admin()).expect(204);
  });
});
