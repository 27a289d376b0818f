import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { RedactedTail } from './redacted-tail';

/** How long to wait, after the process exited, for its stdout/stderr to reach EOF. A grandchild that
 * inherited the pipes can hold them open; after this grace they are destroyed and onExit fires. */
const STDIO_GRACE_MS = 250;

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * The child gets SIGTERM when the kernel dies, even by SIGKILL (Linux `PR_SET_PDEATHSIG`, through
   * util-linux `setpriv`, which then execs the command: same pid). Without it a recorder outlives a
   * crashed kernel and the restarted kernel starts a second writer for the same camera.
   */
  dieWithParent?: boolean;
}

const SETPRIV = '/usr/bin/setpriv';
let setprivUsable: boolean | undefined;

/** An executable `command` (absolute, or found on PATH): only then is it wrapped (else ENOENT stays an error). */
function resolvable(command: string, env: NodeJS.ProcessEnv | undefined): boolean {
  const isExec = (p: string) => {
    try {
      accessSync(p, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (command.includes('/')) return isExec(command);
  return (env?.PATH ?? process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir && isExec(join(dir, command)));
}

/** `[command, args]`, wrapped in `setpriv --pdeathsig TERM --` where that works. */
export function withParentDeathSignal(
  command: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): [string, string[]] {
  if (process.platform !== 'linux') return [command, args];
  setprivUsable ??= resolvable(SETPRIV, undefined);
  if (!setprivUsable || !resolvable(command, env)) return [command, args];
  return [SETPRIV, ['--pdeathsig', 'TERM', '--', command, ...args]];
}

export interface RunToCompletionOptions extends SpawnOptions {
  /** The child is SIGKILLed after this long and the result has `timedOut: true`. */
  timeoutMs: number;
  /** Cap per stream: stdout keeps its first bytes, stderr its last bytes. */
  maxOutputBytes: number;
  /** Strings masked in stderr wherever they occur (see `cameraSecrets`): a password in a URL's
   * path is invisible to generic URL masking. */
  redact?: readonly string[];
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** Redacted line by line: URL credentials and query values, and `redact` (tool stderr routinely
   * echoes the input URL). */
  stderr: string;
  timedOut: boolean;
  /** True when stdout or stderr exceeded maxOutputBytes and was cut. */
  truncated: boolean;
}

/** The child's stdin; writes after the child is gone are dropped (never throw, never EPIPE-crash). */
export interface ChildStdin {
  write(data: string | Buffer): boolean;
  end(): void;
}

/**
 * A spawned child. stdout and stderr are always drained (data nobody subscribed to is discarded), so
 * a chatty child can never block on a full pipe. Subscribe synchronously after `spawn()`: events
 * are delivered asynchronously, none are replayed.
 */
export interface ChildHandle {
  /** OS pid; undefined when the spawn failed (onError follows). */
  readonly pid: number | undefined;
  readonly stdin: ChildStdin;
  onStdout(cb: (chunk: Buffer) => void): void;
  onStderr(cb: (chunk: Buffer) => void): void;
  /** Fires once, after the process exited and its stdout/stderr were drained (bounded by a short
   * grace). Never fires when the spawn itself failed. */
  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** Spawn failures (ENOENT, EACCES, bad cwd: `pid` is undefined) and failed kills. */
  onError(cb: (err: Error) => void): void;
  /** Sends a signal; false when the process is already gone. */
  kill(signal?: NodeJS.Signals): boolean;
}

class SpawnedChild implements ChildHandle {
  private readonly stdoutCbs: Array<(chunk: Buffer) => void> = [];
  private readonly stderrCbs: Array<(chunk: Buffer) => void> = [];
  private readonly exitCbs: Array<(code: number | null, signal: NodeJS.Signals | null) => void> = [];
  private readonly errorCbs: Array<(err: Error) => void> = [];
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private finished = false;
  readonly stdin: ChildStdin;

  constructor(private readonly child: ChildProcess) {
    const { stdin, stdout, stderr } = child;
    // Stream errors (EPIPE on a dead child's stdin, ECONNRESET) must not become uncaught exceptions.
    const ignore = (): void => undefined;
    stdin?.on('error', ignore);
    stdout?.on('error', ignore);
    stderr?.on('error', ignore);
    stdout?.on('data', (chunk: Buffer) => this.stdoutCbs.forEach((cb) => cb(chunk)));
    stderr?.on('data', (chunk: Buffer) => this.stderrCbs.forEach((cb) => cb(chunk)));
    child.on('error', (err) => this.errorCbs.forEach((cb) => cb(err)));
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.graceTimer = setTimeout(() => this.finish(), STDIO_GRACE_MS);
    });
    child.on('close', () => this.finish());
    this.stdin = {
      write: (data) => (stdin && stdin.writable && !stdin.destroyed ? stdin.write(data) : false),
      end: () => {
        if (stdin && !stdin.destroyed) stdin.end();
      },
    };
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  onStdout(cb: (chunk: Buffer) => void): void {
    this.stdoutCbs.push(cb);
  }

  onStderr(cb: (chunk: Buffer) => void): void {
    this.stderrCbs.push(cb);
  }

  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.exitCbs.push(cb);
  }

  onError(cb: (err: Error) => void): void {
    this.errorCbs.push(cb);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exit || this.child.pid === undefined) return false;
    try {
      return this.child.kill(signal);
    } catch {
      return false;
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.graceTimer);
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    // A failed spawn gets 'close' without 'exit'; it was reported through onError only.
    const exit = this.exit;
    if (exit) this.exitCbs.forEach((cb) => cb(exit.code, exit.signal));
  }
}

/** The only place in the kernel that calls `child_process.spawn`. */
@Injectable()
export class ProcessRunner {
  /** Spawns with piped stdio, not detached. Throws only for invalid arguments (e.g. NUL bytes);
   * runtime spawn failures arrive through `onError`. */
  spawn(command: string, args: string[], opts: SpawnOptions = {}): ChildHandle {
    const [cmd, argv] = opts.dieWithParent ? withParentDeathSignal(command, args, opts.env) : [command, args];
    const child = spawnChild(cmd, argv, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: false,
      windowsHide: true,
    });
    return new SpawnedChild(child);
  }

  /** Runs a short-lived tool (ffprobe) to completion with a hard timeout and bounded output.
   * Rejects only when the process cannot be started (ENOENT...). */
  runToCompletion(command: string, args: string[], opts: RunToCompletionOptions): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      let handle: ChildHandle;
      try {
        handle = this.spawn(command, args, opts);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const max = Math.max(0, opts.maxOutputBytes);
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let truncated = false;
      const stderr = new RedactedTail(max, undefined, opts.redact);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = handle.kill('SIGKILL'); // false when it exited on its own meanwhile
      }, opts.timeoutMs);

      handle.onStdout((chunk) => {
        const room = max - stdoutBytes;
        if (chunk.length > room) truncated = true;
        if (room <= 0) return;
        const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
        stdout.push(kept);
        stdoutBytes += kept.length;
      });
      handle.onStderr((chunk) => {
        stderr.push(chunk);
      });
      handle.onError((err) => {
        if (handle.pid !== undefined) return; // a failed kill; the exit still follows
        clearTimeout(timer);
        reject(err);
      });
      handle.onExit((code, signal) => {
        clearTimeout(timer);
        stderr.flush();
        resolve({
          code,
          signal,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: stderr.toString(),
          timedOut,
          truncated: truncated || stderr.truncated,
        });
      });
      handle.stdin.end();
    });
  }
}
