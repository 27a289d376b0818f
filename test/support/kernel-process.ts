import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { TestStore } from './test-db';

export const MAIN = resolve(__dirname, '../../dist/heldar.js');

export interface Kernel {
  child: ChildProcess;
  exited: Promise<unknown>;
  base: string;
  /** Leads its own process group (the kernel and its ffmpeg children): signals go to all of it. */
  group?: boolean;
}

/** The environment a test kernel process runs with on `store`, listening on `port`. */
export function kernelEnv(
  store: TestStore,
  port: number,
  env: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HELDAR_DATA_DIR: store.dataDir,
    HELDAR_DATABASE_URL: store.databaseUrl,
    HELDAR_API_PORT: String(port),
    HELDAR_API_HOST: '127.0.0.1',
    HELDAR_AI_ENABLED: 'false',
    HELDAR_MIN_FREE_DISK_GB: '0',
    HELDAR_MAX_RECORDINGS_GB: '0',
    HELDAR_LOG: 'warn',
    ...env,
  };
}

/**
 * The built kernel as a real process on `store` (SQLite), ready when `/readyz` answers 200.
 * `group`: in a process group of its own with its children (a machine, for `signalGroup`); whoever
 * boots one must `kill9` it (the whole group) in teardown.
 */
export async function bootKernel(
  store: TestStore,
  port: number,
  env: Record<string, string> = {},
  opts: { group?: boolean } = {},
): Promise<Kernel> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (make does)`);
  const child = spawn(process.execPath, [MAIN], {
    cwd: store.dataDir,
    env: kernelEnv(store, port, env),
    stdio: 'ignore',
    detached: opts.group ?? false,
  });
  const exited = new Promise((r) => child.once('exit', r));
  const base = `http://127.0.0.1:${port}`;
  const k: Kernel = { child, exited, base, group: opts.group ?? false };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return k;
    } catch {
      /* not yet */
    }
    if (child.exitCode !== null) {
      if (k.group) signalGroup(k, 'SIGKILL');
      throw new Error(`the kernel exited with ${child.exitCode} during boot`);
    }
    if (Date.now() > deadline) {
      await kill9(k);
      throw new Error('the kernel did not become ready');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A kernel process expected to refuse to start: its exit code and everything it printed (killed after 30 s). */
export function bootRefused(
  store: TestStore,
  port: number,
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [MAIN], { cwd: store.dataDir, env: kernelEnv(store, port, env) });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((r) =>
    child.once('exit', (code) => {
      clearTimeout(killer);
      r({ code, out });
    }),
  );
}

/** SIGKILL: the kernel, or its whole group (children included, even when the kernel is gone). */
export async function kill9(k: Kernel | null): Promise<void> {
  if (!k) return;
  if (k.group) signalGroup(k, 'SIGKILL');
  if (k.child.exitCode !== null || k.child.signalCode !== null) return;
  k.child.kill('SIGKILL');
  await k.exited;
}

/** A signal to a grouped kernel's whole process group (SIGSTOP/SIGCONT: a frozen machine). */
export function signalGroup(k: Kernel, signal: NodeJS.Signals): void {
  if (!k.group || k.child.pid === undefined) throw new Error('not a grouped kernel');
  try {
    process.kill(-k.child.pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // the group is gone already
  }
}

/** Rows straight from the SQLite file (read-only connection). */
export function sqliteRows<T = Record<string, unknown>>(store: TestStore, sql: string): T[] {
  const db = new BetterSqlite3(store.config.sqlitePath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** Pids of running ffmpeg processes whose command line mentions `needle` (a test's data dir). */
export function ffmpegPidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.endsWith('ffmpeg')) && cmd.some((a) => a.includes(needle)))
        out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

export async function json<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/** A detection batch of `perBatch` people on `cameraId` for frame `frame` (kill -9 tests). */
export function detectionBatch(cameraId: string, frame: string, perBatch: number) {
  return {
    camera_id: cameraId,
    task_type: 'object_detection',
    frame_id: frame,
    detections: Array.from({ length: perBatch }, (_, j) => ({
      label: 'person',
      confidence: 0.9,
      bbox: [0.1 * j, 0.3, 0.1, 0.2],
      track_id: `${frame}-${j}`,
    })),
  };
}

/** Posts a batch; `ok: false` when it was not acknowledged (an error status, or the kernel died). */
export async function postBatch(base: string, body: object): Promise<{ ok: boolean; duplicate?: boolean }> {
  try {
    const r = await json<{ duplicate: boolean }>(`${base}/api/v1/ai/events`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    return r.status === 200 ? { ok: true, duplicate: r.body.duplicate } : { ok: false };
  } catch {
    return { ok: false };
  }
}
