import { encode } from 'jpeg-js';
import { parseCli } from './cli';
import { type Logger, MotionWorker, type WorkerTask } from './worker';

/** A 160x120 JPEG: dark, with a bright 30x30 square at (x, 40). */
function jpeg(x: number): Buffer {
  const w = 160;
  const h = 120;
  const data = Buffer.alloc(w * h * 4, 20);
  for (let y = 40; y < 70; y++) {
    for (let i = x; i < x + 30; i++) data.fill(230, (y * w + i) * 4, (y * w + i) * 4 + 3);
  }
  return encode({ width: w, height: h, data }, 90).data;
}

const TASK: WorkerTask = {
  id: 'ai_1',
  camera_id: 'c1',
  task_type: 'motion',
  stream_profile: 'sub',
  fps: 2,
  width: 160,
  config: {},
  frame_url: '/api/v1/cameras/c1/frame?profile=sub&task=ai_1',
};

interface Post {
  key: string | null;
  body: {
    camera_id: string;
    task_type: string;
    frame_id: string;
    timestamp: string;
    detections: Array<{ label: string; confidence: number; bbox: number[]; track_id: string }>;
  };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** The kernel's worker contract, in memory. */
function fakeKernel() {
  const k = {
    tasks: [TASK] as WorkerTask[],
    discoveryStatus: 200,
    frame: null as null | { capturedAt: string; jpeg: Buffer },
    /** What the next ingests answer, in turn ('network' = the connection fails); then 200. */
    ingest: [] as Array<number | 'network'>,
    discoveries: [] as Array<{ url: URL; key: string | null }>,
    frames: [] as Array<{ url: URL; key: string | null }>,
    posts: [] as Post[],
    fetch: async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const req = input instanceof Request ? input : new Request(input, init);
      const url = new URL(req.url);
      const key = req.headers.get('x-api-key');
      if (url.pathname === '/api/v1/ai/tasks') {
        k.discoveries.push({ url, key });
        return k.discoveryStatus === 200
          ? json(200, k.tasks)
          : json(k.discoveryStatus, { error: 'invalid API key', code: 'UNAUTHENTICATED' });
      }
      if (url.pathname.endsWith('/frame') || url.pathname.endsWith('.jpg')) {
        k.frames.push({ url, key });
        if (!k.frame) return json(404, { error: 'no frame yet for camera `c1` (sub)', code: 'NO_FRAME' });
        return new Response(k.frame.jpeg, {
          headers: {
            'content-type': 'image/jpeg',
            'x-frame-captured-at': k.frame.capturedAt,
            'x-frame-age-ms': '40',
          },
        });
      }
      if (url.pathname === '/api/v1/ai/events' && req.method === 'POST') {
        const body = (await req.json()) as Post['body'];
        k.posts.push({ key, body });
        const answer = k.ingest.shift() ?? 200;
        if (answer === 'network') throw new TypeError('fetch failed');
        if (answer === 200)
          return json(200, { detections_ingested: body.detections.length, duplicate: false });
        return json(answer, { error: `refused (${answer})`, code: 'VALIDATION_FAILED' });
      }
      return json(404, { error: `no route ${url.pathname}` });
    },
  };
  return k;
}

function setup(argv: string[] = ['--key', 'vok_test', '--worker-id', 'w1']) {
  const k = fakeKernel();
  const lines: string[] = [];
  const rec =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void =>
      void lines.push(`${level} ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  const log: Logger = { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
  // A minimum area well above JPEG ringing round the square's edges.
  const cfg = parseCli(['--api', 'http://kernel.test:8080', '--min-area', '0.01', ...argv], {})!;
  const worker = new MotionWorker(cfg, log, {
    fetch: k.fetch,
    loops: false,
    ingestRetry: { attempts: 3, baseMs: 1, maxMs: 5 },
  });
  let n = 0;
  /** Show the worker a new frame with the square at x. */
  const show = (x: number) => {
    k.frame = { capturedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n++)).toISOString(), jpeg: jpeg(x) };
    return k.frame.capturedAt;
  };
  return { k, lines, worker, show };
}

describe('MotionWorker against the worker contract', () => {
  it('heartbeats with its worker id and key, skips a frame it has seen, posts tracked motion per frame', async () => {
    const { k, worker, show } = setup();
    await worker.discover();
    expect(k.discoveries[0].url.searchParams.get('worker_id')).toBe('w1');
    expect(k.discoveries[0].key).toBe('vok_test');

    show(10);
    await worker.poll('ai_1'); // primes the detector: nothing to post
    await worker.poll('ai_1'); // the same frame again: skipped
    expect(k.frames).toHaveLength(2);
    expect(k.frames[0].url.pathname + k.frames[0].url.search).toBe(TASK.frame_url);
    expect(k.frames[0].key).toBe('vok_test');
    expect(k.posts).toEqual([]);

    const second = show(60);
    await worker.poll('ai_1');
    await worker.poll('ai_1'); // seen: not posted twice
    expect(k.posts).toHaveLength(1);
    const [post] = k.posts;
    expect(post.key).toBe('vok_test');
    expect(post.body).toMatchObject({
      camera_id: 'c1',
      task_type: 'motion',
      frame_id: second,
      timestamp: second,
    });
    // The spot it left and the spot it reached, both 30x30 px of 160x120.
    expect(post.body.detections).toHaveLength(2);
    for (const d of post.body.detections) {
      expect(d.label).toBe('motion');
      expect(d.confidence).toBeGreaterThan(0.5);
      expect(d.track_id).toMatch(/^[0-9a-z]+-[12]$/);
      expect(d.bbox[2]).toBeCloseTo(30 / 160, 1);
      expect(d.bbox[3]).toBeCloseTo(30 / 120, 1);
    }
    const reached = post.body.detections.find((d) => d.bbox[0] > 0.3)!;

    show(110);
    await worker.poll('ai_1');
    expect(k.posts).toHaveLength(2);
    // Where the square was last frame is where it is tracked from: the same track id.
    const left = k.posts[1].body.detections.find((d) => Math.abs(d.bbox[0] - reached.bbox[0]) < 0.05)!;
    expect(left.track_id).toBe(reached.track_id);
  });

  it('retries an ingest on network errors and 5xx with the same frame_id; a 4xx is logged, not thrown', async () => {
    const { k, worker, show, lines } = setup();
    await worker.discover();
    show(10);
    await worker.poll('ai_1');

    k.ingest = ['network', 503];
    const frame = show(60);
    await worker.poll('ai_1');
    expect(k.posts).toHaveLength(3); // failed, 503, then 200
    expect(new Set(k.posts.map((p) => JSON.stringify(p.body))).size).toBe(1);
    expect(k.posts[0].body.frame_id).toBe(frame);

    k.ingest = [400];
    show(110);
    await expect(worker.poll('ai_1')).resolves.toBeUndefined();
    expect(k.posts).toHaveLength(4); // a 400 is not retried
    expect(lines).toContainEqual(
      expect.stringMatching(/^error ingest c1: frame .* refused: HTTP 400: refused \(400\)/),
    );

    show(60);
    await worker.poll('ai_1');
    expect(k.posts).toHaveLength(5);
    expect(lines).toContainEqual('info ingest c1: ok again');
  });

  it('waits out a missing frame, leaves other task types alone, and drops a task that went away', async () => {
    const { k, worker, lines } = setup();
    k.tasks = [TASK, { ...TASK, id: 'ai_2', task_type: 'object_detection' }];
    await worker.discover();
    await expect(worker.poll('ai_2')).rejects.toThrow(/no task ai_2/);
    expect(lines).toContainEqual(expect.stringMatching(/^warn tasks: 1 task\(s\) of another task_type/));

    await worker.poll('ai_1'); // 404: no frame yet
    await worker.poll('ai_1');
    expect(lines.filter((l) => l.includes('no frame yet'))).toHaveLength(1); // said once
    expect(k.posts).toEqual([]);

    k.tasks = [];
    await worker.discover();
    await expect(worker.poll('ai_1')).rejects.toThrow(/no task ai_1/);
    expect(lines).toContainEqual(expect.stringMatching(/^info task dropped/));
  });

  it('logs a refused key once and keeps going; never sends the key to another origin', async () => {
    const { k, worker, lines } = setup();
    k.discoveryStatus = 401;
    await worker.discover();
    await worker.discover();
    expect(lines.filter((l) => l.startsWith('error discovery: HTTP 401: invalid API key'))).toHaveLength(1);

    k.discoveryStatus = 200;
    k.tasks = [{ ...TASK, frame_url: 'http://frames.test/c1/latest.jpg' }];
    await worker.discover();
    expect(lines).toContainEqual('info discovery: ok again');
    await worker.poll('ai_1');
    expect(k.frames.at(-1)).toMatchObject({ key: null });
    expect(k.frames.at(-1)!.url.host).toBe('frames.test');
  });
});
