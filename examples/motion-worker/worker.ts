/**
 * The worker loop: discover tasks (the heartbeat), pull each task's latest frame, find and track
 * what moved, post the detections. One loop per task, plus the discovery loop.
 *
 * ESM note: openapi-fetch declares `"type": "module"`, but its package `exports` has a `require`
 * condition (dist/index.cjs), so the plain import below, which tsc compiles to `require()` for this
 * CommonJS project, loads the CommonJS build on any Node ≥ 18; no dynamic `import()` is needed.
 * Its types import `openapi-typescript-helpers` (ESM, types only: nothing of it runs).
 */
import { decode } from 'jpeg-js';
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './api-types';
import { taskOverrides, type WorkerConfig } from './cli';
import { MotionDetector, type MotionBox } from './motion';
import { DEFAULT_RETRY, describeError, type RetryPolicy, withRetry } from './retry';
import { CentroidTracker } from './tracker';

export type WorkerTask = components['schemas']['WorkerTaskResponse'];
type IngestDetection = components['schemas']['IngestDetectionSchema'];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** One line per entry: `<iso time> <level> <message> <fields as JSON>`. */
export function consoleLogger(verbose: boolean, out: (line: string) => void = console.log): Logger {
  const line = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    out(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  return {
    debug: verbose ? line('debug') : () => undefined,
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
  };
}

const REQUEST_TIMEOUT_MS = 15_000;
/** A frame this old means the sampler is stuck (camera offline): said once, then skipped as a repeat. */
const STALE_FRAME_MS = 10_000;
const FRAME_RETRY: RetryPolicy = { attempts: 2, baseMs: 500, maxMs: 2_000 };
const DISCOVERY_RETRY: RetryPolicy = { attempts: 3, baseMs: 500, maxMs: 4_000 };

export interface WorkerDeps {
  fetch?: typeof fetch;
  /** Retries of a failed ingest (default: 5 tries, 0.5 s doubling to 10 s). */
  ingestRetry?: RetryPolicy;
  /** false: discovery starts no task loops; frames are taken by `poll()` alone (tests). */
  loops?: boolean;
}

interface Stream {
  task: WorkerTask;
  detector: MotionDetector;
  tracker: CentroidTracker;
  /** `x-frame-captured-at` of the last frame processed: the same frame is never processed twice. */
  lastCapturedAt: string | null;
  stop: AbortController;
  done: Promise<void>;
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The `error` message of the kernel's envelope, else the status line. */
function kernelError(body: unknown, response: Response): string {
  const msg =
    typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
      ? (body as { error: string }).error
      : response.statusText;
  return `HTTP ${response.status}: ${msg}`;
}

/** Same stream: a change of camera, frame URL or config (the detector's tuning) restarts it. */
const sameStream = (a: WorkerTask, b: WorkerTask) =>
  a.camera_id === b.camera_id &&
  a.frame_url === b.frame_url &&
  JSON.stringify(a.config) === JSON.stringify(b.config);

export class MotionWorker {
  private readonly client: Client<paths>;
  private readonly streams = new Map<string, Stream>();
  /** Loops of dropped tasks still finishing a frame (a stop waits for them too). */
  private readonly retiring = new Set<Promise<void>>();
  /** Aborted on stop: ends sleeps, no new request starts. */
  private readonly stopping = new AbortController();
  /** Aborted when the stop's grace runs out: cuts requests in flight. */
  private readonly halt = new AbortController();
  /** Track ids are `<run>-<n>`: a restarted worker never continues an old run's track in a zone. */
  private readonly run = Date.now().toString(36);
  /** The last problem logged per scope, so a persisting problem is logged once, not every poll. */
  private readonly problems = new Map<string, string>();
  private readonly authHeaders: Record<string, string>;
  private stats = { frames: 0, posted: 0, detections: 0 };

  private readonly fetchImpl: typeof fetch;
  private readonly ingestRetry: RetryPolicy;
  private readonly loops: boolean;

  constructor(
    private readonly cfg: WorkerConfig,
    private readonly log: Logger,
    deps: WorkerDeps = {},
  ) {
    this.fetchImpl = deps.fetch ?? globalThis.fetch;
    this.ingestRetry = deps.ingestRetry ?? DEFAULT_RETRY;
    this.loops = deps.loops ?? true;
    this.authHeaders = cfg.key ? { 'X-API-Key': cfg.key } : {};
    this.client = createClient<paths>({
      baseUrl: cfg.api,
      headers: this.authHeaders,
      fetch: (req: Request) => this.fetchImpl(req),
    });
  }

  /** Runs until `stop()`; resolves when every loop has ended. */
  async start(): Promise<void> {
    this.log.info('motion worker started', {
      api: this.cfg.api,
      worker_id: this.cfg.workerId,
      task_type: this.cfg.taskType,
      auth: this.cfg.key ? 'api key' : 'none',
    });
    while (!this.stopping.signal.aborted) {
      await this.discover().catch((err: unknown) => this.problem('discovery', describeError(err)));
      await sleep(this.cfg.discoveryMs, this.stopping.signal);
    }
    await Promise.all([...[...this.streams.values()].map((s) => s.done), ...this.retiring]);
    this.log.info('motion worker stopped', this.stats);
  }

  /** Stop taking frames; requests in flight get `graceMs` to finish, then are cut. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    for (const s of this.streams.values()) s.stop.abort();
    const all = Promise.all([...[...this.streams.values()].map((s) => s.done), ...this.retiring]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.log.warn('requests still in flight after the grace period: cutting them', { grace_ms: graceMs });
      this.halt.abort();
      await all;
    }
  }

  private signal(): AbortSignal {
    return AbortSignal.any([this.halt.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
  }

  /** Retries of an ingest are warnings; those of polls only debug lines (the outcome is logged once). */
  private retryHooks(what: string, level: 'warn' | 'debug' = 'debug') {
    return {
      sleep: (ms: number) => sleep(ms, this.stopping.signal),
      stopped: () => this.stopping.signal.aborted,
      onRetry: (r: { retry: number; delayMs: number; reason: string }) =>
        this.log[level](`${what} failed (${r.reason}); retry ${r.retry} in ${r.delayMs} ms`),
    };
  }

  /** Log a problem when it starts or changes; `resolved` logs its end. */
  private problem(scope: string, msg: string, level: 'warn' | 'error' = 'warn'): void {
    if (this.problems.get(scope) === msg) return;
    this.problems.set(scope, msg);
    this.log[level](`${scope}: ${msg}`);
  }

  private resolved(scope: string): void {
    if (this.problems.delete(scope)) this.log.info(`${scope}: ok again`);
  }

  /** One heartbeat: fetch this worker's share of the tasks and start/stop task loops to match. */
  async discover(): Promise<void> {
    const { data, error, response } = await withRetry(
      () =>
        this.client.GET('/api/v1/ai/tasks', {
          params: { query: { worker_id: this.cfg.workerId } },
          signal: this.signal(),
        }),
      DISCOVERY_RETRY,
      this.retryHooks('task discovery'),
    );
    if (!data) {
      // 401 (bad or missing key), 403 (a key without ai:tasks), 409 (worker id of another key), 5xx.
      this.problem('discovery', kernelError(error, response), response.status < 500 ? 'error' : 'warn');
      return;
    }
    this.resolved('discovery');
    if (this.stopping.signal.aborted) return;
    const mine = new Map(data.filter((t) => t.task_type === this.cfg.taskType).map((t) => [t.id, t]));
    const others = data.length - mine.size;
    if (others > 0) {
      this.problem('tasks', `${others} task(s) of another task_type than ${this.cfg.taskType}: left alone`);
    } else {
      this.resolved('tasks');
    }
    for (const [id, s] of this.streams) {
      const now = mine.get(id);
      if (now && sameStream(now, s.task)) {
        s.task = now; // its fps may have changed
        continue;
      }
      this.log.info('task dropped', { task: id, camera_id: s.task.camera_id });
      s.stop.abort();
      this.streams.delete(id);
      this.retiring.add(s.done);
      void s.done.finally(() => this.retiring.delete(s.done));
    }
    for (const task of mine.values()) {
      if (this.streams.has(task.id)) continue;
      this.startStream(task);
    }
  }

  private startStream(task: WorkerTask): void {
    const tuned = taskOverrides(task.config, this.cfg);
    const s: Stream = {
      task,
      detector: new MotionDetector(tuned.motion),
      tracker: new CentroidTracker(tuned.tracker),
      lastCapturedAt: null,
      stop: new AbortController(),
      done: Promise.resolve(),
    };
    this.log.info('task started', {
      task: task.id,
      camera_id: task.camera_id,
      fps: task.fps,
      width: task.width,
      ...tuned.motion,
      ...tuned.tracker,
    });
    if (this.loops) s.done = this.loop(s);
    this.streams.set(task.id, s);
  }

  private async loop(s: Stream): Promise<void> {
    const scope = `camera ${s.task.camera_id}`;
    while (!s.stop.signal.aborted) {
      const began = Date.now();
      try {
        await this.step(s);
      } catch (err) {
        if (this.halt.signal.aborted) break;
        this.problem(scope, describeError(err));
      }
      // Twice the task's fps by default, so no sampled frame slips between two polls (a repeat is
      // recognised by its capture time and skipped).
      const period = this.cfg.intervalMs ?? Math.max(100, Math.round(500 / Math.max(0.1, s.task.fps)));
      await sleep(period - (Date.now() - began), s.stop.signal);
    }
  }

  /** The frame URL is opaque (the kernel's contract: pull what `frame_url` says). */
  private frameUrl(task: WorkerTask): URL {
    return /^https?:\/\//i.test(task.frame_url)
      ? new URL(task.frame_url)
      : new URL(`${this.cfg.api}${task.frame_url.startsWith('/') ? '' : '/'}${task.frame_url}`);
  }

  /** Take one frame of a discovered task now (what its loop does each period). */
  async poll(taskId: string): Promise<void> {
    const s = this.streams.get(taskId);
    if (!s) throw new Error(`no task ${taskId} (not discovered, or of another task_type)`);
    await this.step(s);
  }

  /** One frame of one task: pull, skip if seen, detect, track, post. */
  private async step(s: Stream): Promise<void> {
    const { task } = s;
    const scope = `camera ${task.camera_id}`;
    const url = this.frameUrl(task);
    // The key goes only to the kernel's own origin, never to a host a frame_url might name.
    const headers = url.origin === new URL(this.cfg.api).origin ? this.authHeaders : {};
    // Not through the typed client: the frame is JPEG bytes, and its URL is the kernel's to choose.
    const { response } = await withRetry(
      async () => ({ response: await this.fetchImpl(url, { headers, signal: this.signal() }) }),
      FRAME_RETRY,
      this.retryHooks(`frame of ${task.camera_id}`),
    );
    if (!response.ok) {
      const body: unknown = await response.json().catch(() => null);
      // 404 before the sampler's first frame (or while its camera is offline): wait quietly.
      this.problem(
        scope,
        `no frame: ${kernelError(body, response)}`,
        response.status === 404 ? 'warn' : 'error',
      );
      return;
    }
    const capturedAt = response.headers.get('x-frame-captured-at');
    const ageMs = Number(response.headers.get('x-frame-age-ms'));
    if (!capturedAt || !Number.isFinite(Date.parse(capturedAt))) {
      await response.body?.cancel();
      this.problem(scope, 'frame without x-frame-captured-at: skipped', 'error');
      return;
    }
    if (capturedAt === s.lastCapturedAt) {
      await response.body?.cancel(); // the same frame as last time
      return;
    }
    const jpeg = new Uint8Array(await response.arrayBuffer());
    if (ageMs > STALE_FRAME_MS) this.problem(scope, `the latest frame is ${Math.round(ageMs / 1000)} s old`);
    else this.resolved(scope);

    let image: { width: number; height: number; data: Uint8Array };
    try {
      image = decode(jpeg, {
        useTArray: true,
        formatAsRGBA: false,
        maxResolutionInMP: 40,
        maxMemoryUsageInMB: 256,
      });
    } catch (err) {
      s.lastCapturedAt = capturedAt;
      this.problem(scope, `undecodable frame: ${describeError(err)}`);
      return;
    }
    s.lastCapturedAt = capturedAt;
    this.stats.frames++;
    const boxes = s.detector.next(image.data, image.width, image.height, 3);
    const ids = s.tracker.update(boxes);
    if (boxes.length === 0) return; // nothing moved: nothing to say
    await this.post(s, capturedAt, boxes, ids);
  }

  private async post(s: Stream, capturedAt: string, boxes: MotionBox[], ids: number[]): Promise<void> {
    const { task } = s;
    const detections: IngestDetection[] = boxes.map((b, i) => ({
      label: 'motion',
      confidence: b.confidence,
      bbox: b.bbox,
      track_id: `${this.run}-${ids[i]}`,
      attributes: { area: b.area },
    }));
    let result;
    try {
      result = await withRetry(
        () =>
          this.client.POST('/api/v1/ai/events', {
            // frame_id = the capture time: a retry of this frame is answered `duplicate` and writes nothing.
            body: {
              camera_id: task.camera_id,
              task_type: task.task_type,
              frame_id: capturedAt,
              timestamp: capturedAt,
              detections,
            },
            signal: this.signal(),
          }),
        this.ingestRetry,
        this.retryHooks(`ingest for ${task.camera_id}`, 'warn'),
      );
    } catch (err) {
      this.problem(`ingest ${task.camera_id}`, `frame ${capturedAt} dropped: ${describeError(err)}`, 'error');
      return;
    }
    const { data, error, response } = result;
    if (!data) {
      // A 4xx is logged, never fatal: the next frame is tried as usual.
      this.problem(
        `ingest ${task.camera_id}`,
        `frame ${capturedAt} refused: ${kernelError(error, response)}`,
        'error',
      );
      return;
    }
    this.resolved(`ingest ${task.camera_id}`);
    this.stats.posted++;
    this.stats.detections += data.detections_ingested;
    this.log.debug('posted', {
      camera_id: task.camera_id,
      frame_id: capturedAt,
      detections: detections.length,
      tracks: [...new Set(detections.map((d) => d.track_id))],
      duplicate: data.duplicate,
    });
  }
}
