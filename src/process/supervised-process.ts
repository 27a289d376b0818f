import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { ChildHandle, ProcessRunner } from './process-runner';
import { RedactedTail, redactLine } from './redacted-tail';

export type ProcessState = 'starting' | 'running' | 'backing_off' | 'stopped';

export interface ProcessExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** 0 when the child never ran (spawn error, args() threw). */
  runtimeMs: number;
  /** Last stderr bytes of this run, redacted. */
  stderrTail: string;
  willRestart: boolean;
  /** Delay before the next attempt; null when not restarting. */
  restartInMs: number | null;
  /** Why the child never ran (spawn error, args() failure); absent for a real exit. */
  error?: string;
  /** Wall-clock time of the exit (ISO 8601). */
  at: string;
}

export interface StateChangeInfo {
  previous: ProcessState;
  pid: number | undefined;
  /** The exit behind this transition (to backing_off, or to stopped after a stop). */
  exit?: ProcessExitInfo;
}

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** A run at least this long counts as healthy: the next delay starts again from initialMs. */
  healthyAfterMs?: number;
}

export interface StopTimeouts {
  /** Wait after writing `q` before SIGTERM. */
  quitMs?: number;
  /** Wait after SIGTERM before SIGKILL. */
  termMs?: number;
}

export interface SupervisedProcessSpec {
  name: string;
  command: string;
  /** A function is re-evaluated on every (re)start; a throw or rejection counts as a failed start. */
  args: string[] | (() => string[] | Promise<string[]>);
  runner: ProcessRunner;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  backoff?: BackoffOptions;
  stopTimeouts?: StopTimeouts;
  stderrTailBytes?: number;
  /**
   * Strings masked wherever they occur in the child's stderr, the tail and the exit info (the
   * camera's password, raw and encoded: see `cameraSecrets`), on top of URL masking.
   */
  redact?: readonly string[];
  onStateChange?: (state: ProcessState, info: StateChangeInfo) => void;
  onExit?: (info: ProcessExitInfo) => void;
  onSpawn?: (pid: number) => void;
  /** Every stderr line, already redacted (URL masking and `redact`). */
  onStderrLine?: (line: string) => void;
  /** Every complete stdout line (without its newline), of the current run only; without it stdout
   * is drained and discarded. A line longer than 4 KiB is cut there. */
  onStdoutLine?: (line: string) => void;
  /** Monotonic milliseconds; defaults to performance.now. */
  clock?: () => number;
}

export interface SupervisedProcessStatus {
  name: string;
  state: ProcessState;
  pid: number | null;
  /** Restart attempts so far (the first start is not counted). */
  restarts: number;
  /** Failures since the last healthy run. */
  consecutiveFailures: number;
  /** stop() was called and the child has not exited yet. */
  stopping: boolean;
  uptimeMs: number | null;
  nextRestartInMs: number | null;
  lastExit: ProcessExitInfo | null;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got ${value}`);
  return value;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Keeps one long-lived child (ffmpeg recorder, sampler, publisher) alive: restarts it with
 * exponential backoff after every exit that was not requested, drains and redacts its stderr, and
 * stops it gracefully (`q` on stdin, then SIGTERM, then SIGKILL). Single use: after stop(), create a
 * new instance. Never throws out of timers or child events.
 */
export class SupervisedProcess {
  readonly name: string;
  private readonly logger: Logger;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly healthyAfterMs: number;
  private readonly quitMs: number;
  private readonly termMs: number;
  private readonly clock: () => number;
  private readonly tail: RedactedTail;

  private _state: ProcessState = 'stopped';
  private _restarts = 0;
  private _lastExit: ProcessExitInfo | undefined;
  private consecutiveFailures = 0;
  private nextDelayMs: number;
  /** Bumped per launch and when a stop abandons a pending launch; stale callbacks compare against it. */
  private generation = 0;
  private child: ChildHandle | undefined;
  private childPid: number | undefined;
  private spawnedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartAt = 0;
  private started = false;
  private stopRequestedFlag = false;
  private stopPromise: Promise<void> | undefined;
  private resolveStop: (() => void) | undefined;
  private readonly stopTimers: NodeJS.Timeout[] = [];

  constructor(private readonly spec: SupervisedProcessSpec) {
    this.name = spec.name;
    this.logger = new Logger(`SupervisedProcess:${spec.name}`);
    this.initialMs = positive('backoff.initialMs', spec.backoff?.initialMs ?? 1000);
    this.maxMs = positive('backoff.maxMs', spec.backoff?.maxMs ?? 30000);
    if (this.maxMs < this.initialMs) throw new Error('backoff.maxMs must be >= backoff.initialMs');
    this.healthyAfterMs = positive('backoff.healthyAfterMs', spec.backoff?.healthyAfterMs ?? 30000);
    this.quitMs = positive('stopTimeouts.quitMs', spec.stopTimeouts?.quitMs ?? 5000);
    this.termMs = positive('stopTimeouts.termMs', spec.stopTimeouts?.termMs ?? 3000);
    this.clock = spec.clock ?? (() => performance.now());
    this.nextDelayMs = this.initialMs;
    this.tail = new RedactedTail(
      positive('stderrTailBytes', spec.stderrTailBytes ?? 8192),
      (line) => this.safe('onStderrLine', () => spec.onStderrLine?.(line)),
      spec.redact,
    );
  }

  get state(): ProcessState {
    return this._state;
  }

  get pid(): number | undefined {
    return this.childPid;
  }

  get restarts(): number {
    return this._restarts;
  }

  get lastExit(): ProcessExitInfo | undefined {
    return this._lastExit;
  }

  /** stop() has been called (the child may still be exiting). */
  get stopRequested(): boolean {
    return this.stopRequestedFlag;
  }

  /** The redacted stderr tail of the current (or last) run. */
  stderrTail(): string {
    return this.tail.toString();
  }

  status(): SupervisedProcessStatus {
    const now = this.clock();
    return {
      name: this.name,
      state: this._state,
      pid: this.childPid ?? null,
      restarts: this._restarts,
      consecutiveFailures: this.consecutiveFailures,
      stopping: this.stopRequestedFlag && this.child !== undefined,
      uptimeMs: this._state === 'running' ? Math.round(now - this.spawnedAt) : null,
      nextRestartInMs: this._state === 'backing_off' ? Math.max(0, Math.round(this.restartAt - now)) : null,
      lastExit: this._lastExit ?? null,
    };
  }

  /** Spawns the child. Idempotent while active; throws after stop() (create a new instance). */
  start(): void {
    if (this.stopRequestedFlag) throw new Error(`${this.name}: cannot start after stop()`);
    if (this.started) return;
    this.started = true;
    this.launch();
  }

  /**
   * Resolves once the child has exited: writes `q` (ffmpeg finalizes its output), SIGTERM after
   * quitMs, SIGKILL after a further termMs. Cancels a pending restart. Idempotent, never rejects.
   */
  stop(): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.stopRequestedFlag = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (!child) {
      // Not started, backing off, or still resolving args: nothing to wait for.
      this.generation++;
      this.setState('stopped');
      this.stopPromise = Promise.resolve();
      return this.stopPromise;
    }
    this.stopPromise = new Promise<void>((resolve) => {
      this.resolveStop = resolve;
    });
    // ffmpeg reads 'q' from stdin (so never pass -nostdin to a supervised ffmpeg); EOF helps others.
    child.stdin.write('q\n');
    child.stdin.end();
    this.stopTimers.push(
      setTimeout(() => {
        child.kill('SIGTERM');
        this.stopTimers.push(setTimeout(() => child.kill('SIGKILL'), this.termMs));
      }, this.quitMs),
    );
    return this.stopPromise;
  }

  /**
   * Ends the current child as a failure, not a stop (a watchdog found it hung): SIGTERM, then
   * SIGKILL after termMs; its exit is supervised like any other (backoff, restart). No-op while
   * no child runs.
   */
  kick(): void {
    const child = this.child;
    if (!child || this.stopRequestedFlag) return;
    child.kill('SIGTERM');
    this.stopTimers.push(setTimeout(() => child.kill('SIGKILL'), this.termMs));
  }

  private launch(): void {
    const gen = ++this.generation;
    this.tail.reset();
    this.setState('starting');
    if (gen !== this.generation) return; // stopped from the onStateChange callback
    let args: string[] | Promise<string[]>;
    try {
      args = typeof this.spec.args === 'function' ? this.spec.args() : this.spec.args;
    } catch (err) {
      this.childGone(gen, null, null, 0, `args() failed: ${message(err)}`);
      return;
    }
    if (Array.isArray(args)) {
      this.spawnChild(gen, args);
      return;
    }
    void Promise.resolve(args)
      .then(
        (resolved) => this.spawnChild(gen, resolved),
        (err: unknown) => this.childGone(gen, null, null, 0, `args() failed: ${message(err)}`),
      )
      .catch((err: unknown) => this.logger.error(`launch failed: ${message(err)}`));
  }

  private spawnChild(gen: number, args: string[]): void {
    if (gen !== this.generation) return;
    let handle: ChildHandle;
    try {
      handle = this.spec.runner.spawn(this.spec.command, args, {
        cwd: this.spec.cwd,
        env: this.spec.env,
        dieWithParent: true,
      });
    } catch (err) {
      this.childGone(gen, null, null, 0, `spawn failed: ${message(err)}`);
      return;
    }
    this.child = handle;
    this.spawnedAt = this.clock();
    let done = false;
    const onLine = this.spec.onStdoutLine;
    if (onLine) {
      const lines = new LineSplitter((line) => {
        if (gen === this.generation) this.safe('onStdoutLine', () => onLine(line));
      });
      handle.onStdout((chunk) => lines.push(chunk));
    } else {
      handle.onStdout(() => undefined); // drained and discarded
    }
    handle.onStderr((chunk) => {
      if (gen === this.generation) this.tail.push(chunk);
    });
    handle.onError((err) => {
      if (done || handle.pid !== undefined) return; // only spawn failures matter; exit follows otherwise
      done = true;
      this.childGone(gen, null, null, 0, `spawn failed: ${message(err)}`);
    });
    handle.onExit((code, signal) => {
      if (done) return;
      done = true;
      this.childGone(gen, code, signal, this.clock() - this.spawnedAt);
    });
    const pid = handle.pid;
    if (pid === undefined) return; // spawn failed: onError follows
    this.childPid = pid;
    this.setState('running');
    this.safe('onSpawn', () => this.spec.onSpawn?.(pid));
  }

  /** The child exited or never started: finish a stop, or schedule the next attempt. */
  private childGone(
    gen: number,
    code: number | null,
    signal: NodeJS.Signals | null,
    runtimeMs: number,
    error?: string,
  ): void {
    if (gen !== this.generation) return;
    this.child = undefined;
    this.childPid = undefined;
    this.tail.flush();
    // An args() failure may quote the URL it was building: redacted like child output.
    if (error !== undefined) error = redactLine(error, this.spec.redact);
    if (error !== undefined) this.tail.append(`[${this.name}] ${error}`);
    const base = {
      code,
      signal,
      runtimeMs: Math.round(runtimeMs),
      stderrTail: this.tail.toString(),
      ...(error !== undefined ? { error } : {}),
      at: new Date().toISOString(),
    };

    // Escalation timers (stop, kick) aimed at the child that just exited.
    this.stopTimers.forEach((t) => clearTimeout(t));
    this.stopTimers.length = 0;
    if (this.stopRequestedFlag) {
      const info: ProcessExitInfo = { ...base, willRestart: false, restartInMs: null };
      this._lastExit = info;
      this.setState('stopped', info);
      this.safe('onExit', () => this.spec.onExit?.(info));
      this.resolveStop?.();
      return;
    }

    // Every unrequested exit is a failure, exit code 0 included (ffmpeg exits 0 when a camera is lost).
    if (runtimeMs >= this.healthyAfterMs) {
      this.nextDelayMs = this.initialMs;
      this.consecutiveFailures = 0;
    }
    this.consecutiveFailures++;
    const delay = this.nextDelayMs;
    this.nextDelayMs = Math.min(delay * 2, this.maxMs);
    const info: ProcessExitInfo = { ...base, willRestart: true, restartInMs: delay };
    this._lastExit = info;
    this.restartAt = this.clock() + delay;
    this.restartTimer = setTimeout(() => this.restart(), delay);
    this.setState('backing_off', info);
    this.safe('onExit', () => this.spec.onExit?.(info));
  }

  private restart(): void {
    this.restartTimer = undefined;
    if (this.stopRequestedFlag) return;
    this._restarts++;
    try {
      this.launch();
    } catch (err) {
      this.logger.error(`restart failed: ${message(err)}`);
    }
  }

  private setState(state: ProcessState, exit?: ProcessExitInfo): void {
    const previous = this._state;
    if (previous === state) return;
    this._state = state;
    this.safe('onStateChange', () =>
      this.spec.onStateChange?.(state, { previous, pid: this.childPid, exit }),
    );
  }

  /** Runs a user callback; its errors (sync or async) are logged, never propagated. */
  private safe(label: string, fn: () => unknown): void {
    try {
      const result = fn();
      if (result instanceof Promise) {
        result.catch((err: unknown) => this.logger.error(`${label} callback rejected: ${message(err)}`));
      }
    } catch (err) {
      this.logger.error(`${label} callback threw: ${message(err)}`);
    }
  }
}

const MAX_STDOUT_LINE = 4096;

/** Cuts a byte stream into lines (`\n` or `\r\n`); an over-long line is delivered cut. */
export class LineSplitter {
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > MAX_STDOUT_LINE) {
      parts.push(this.partial.slice(0, MAX_STDOUT_LINE));
      this.partial = '';
    }
    for (const p of parts) this.onLine(p.endsWith('\r') ? p.slice(0, -1) : p);
  }
}
