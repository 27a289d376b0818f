import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_MOTION, type MotionOptions } from './motion';
import { DEFAULT_TRACKER, type TrackerOptions } from './tracker';

export interface WorkerConfig {
  /** The kernel's base URL, e.g. http://127.0.0.1:8080. */
  api: string;
  /** API key (role integration), sent as X-API-Key; none when the kernel runs without auth. */
  key: string | null;
  workerId: string;
  /** Frame poll period; null = twice each task's fps. */
  intervalMs: number | null;
  /** Discovery (heartbeat) period; the kernel forgets a worker unseen for 60 s. */
  discoveryMs: number;
  /** Tasks of this task_type are handled; others are left alone. */
  taskType: string;
  motion: MotionOptions;
  tracker: TrackerOptions;
  verbose: boolean;
}

export const USAGE = `Heldar reference motion worker: frame differencing + centroid tracking.

  npm run worker:motion -- --api http://127.0.0.1:8080 [--key vok_...] [options]

  --api URL            the kernel (default http://127.0.0.1:8080)
  --key KEY            API key with role integration, sent as X-API-Key
                       (or HELDAR_API_KEY; not needed when the kernel runs without auth)
  --worker-id ID       stable id of this worker (default motion-<hostname>)
  --task-type TYPE     handle tasks of this task_type (default motion)
  --interval-ms MS     frame poll period (default: half a frame period of each task's fps)
  --discovery-ms MS    task discovery / heartbeat period (default 5000, below the kernel's 60 s)
  --threshold N        luma change per cell that counts as motion, 1..254 (default ${DEFAULT_MOTION.threshold})
  --min-area F         smallest region, fraction of the frame (default ${DEFAULT_MOTION.minArea})
  --max-distance F     largest centroid jump kept on one track, normalized (default ${DEFAULT_TRACKER.maxDistance})
  --max-missed N       frames a track may go unseen before it ends (default ${DEFAULT_TRACKER.maxMissed})
  --verbose            log every posted frame
  -h, --help

A task's config may override threshold, min_area, max_distance and max_missed per camera.`;

export class UsageError extends Error {}

const ID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** `motion-<hostname>`, reduced to what the kernel accepts as a worker id. */
export function defaultWorkerId(host: string = hostname()): string {
  const clean = host.replace(/[^A-Za-z0-9_.:-]/g, '-').slice(0, 57);
  return `motion-${clean || 'worker'}`;
}

function num(v: string | undefined, name: string, lo: number, hi: number, int: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < lo || n > hi || (int && !Number.isInteger(n))) {
    throw new UsageError(
      `--${name} must be ${int ? 'an integer' : 'a number'} from ${lo} to ${hi} (got ${v})`,
    );
  }
  return n;
}

/** Parse the command line (and HELDAR_API_KEY); null means --help was asked for. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): WorkerConfig | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        api: { type: 'string' },
        key: { type: 'string' },
        'worker-id': { type: 'string' },
        'task-type': { type: 'string' },
        'interval-ms': { type: 'string' },
        'discovery-ms': { type: 'string' },
        threshold: { type: 'string' },
        'min-area': { type: 'string' },
        'max-distance': { type: 'string' },
        'max-missed': { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return null;

  const api = values.api ?? 'http://127.0.0.1:8080';
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    throw new UsageError(`--api must be an http(s) URL (got ${api})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--api must be an http(s) URL (got ${api})`);
  }
  const workerId = values['worker-id'] ?? defaultWorkerId();
  if (!ID_RE.test(workerId)) throw new UsageError('--worker-id must be 1 to 64 of letters, digits, _ . : -');
  const taskType = values['task-type'] ?? 'motion';
  if (!ID_RE.test(taskType)) throw new UsageError('--task-type must be 1 to 64 of letters, digits, _ . : -');
  const key = values.key ?? env.HELDAR_API_KEY ?? null;

  return {
    api: url.toString().replace(/\/+$/, ''),
    key: key && key.trim() ? key.trim() : null,
    workerId,
    intervalMs: num(values['interval-ms'], 'interval-ms', 50, 600_000, true) ?? null,
    discoveryMs: num(values['discovery-ms'], 'discovery-ms', 500, 55_000, true) ?? 5000,
    taskType,
    motion: {
      ...DEFAULT_MOTION,
      threshold: num(values.threshold, 'threshold', 1, 254, true) ?? DEFAULT_MOTION.threshold,
      minArea: num(values['min-area'], 'min-area', 0, 1, false) ?? DEFAULT_MOTION.minArea,
    },
    tracker: {
      maxDistance: num(values['max-distance'], 'max-distance', 0, 2, false) ?? DEFAULT_TRACKER.maxDistance,
      maxMissed: num(values['max-missed'], 'max-missed', 0, 1000, true) ?? DEFAULT_TRACKER.maxMissed,
    },
    verbose: values.verbose ?? false,
  };
}

/**
 * A task's `config` may tune the detector for its camera: `threshold`, `min_area`, `max_distance`,
 * `max_missed`. Values out of range are ignored (the worker's own settings stay).
 */
export function taskOverrides(
  config: Record<string, unknown> | undefined,
  base: { motion: MotionOptions; tracker: TrackerOptions },
): { motion: MotionOptions; tracker: TrackerOptions } {
  const pick = (k: string, lo: number, hi: number, int: boolean): number | undefined => {
    const v = config?.[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) return undefined;
    return int && !Number.isInteger(v) ? undefined : v;
  };
  return {
    motion: {
      ...base.motion,
      threshold: pick('threshold', 1, 254, true) ?? base.motion.threshold,
      minArea: pick('min_area', 0, 1, false) ?? base.motion.minArea,
    },
    tracker: {
      maxDistance: pick('max_distance', 0, 2, false) ?? base.tracker.maxDistance,
      maxMissed: pick('max_missed', 0, 1000, true) ?? base.tracker.maxMissed,
    },
  };
}
