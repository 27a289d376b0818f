import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessRunner } from './process-runner';
import { ProcessSupervisor, type ManagedProcessSpec } from './process-supervisor.service';
import {
  LineSplitter,
  SupervisedProcess,
  type ProcessExitInfo,
  type ProcessState,
  type SupervisedProcessSpec,
} from './supervised-process';

const FAST = { backoff: { initialMs: 50, maxMs: 400, healthyAfterMs: 10000 } };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function lines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

describe('SupervisedProcess', () => {
  const runner = new ProcessRunner();
  let created: SupervisedProcess[] = [];
  let dir: string;

  /** A started `sh -c script` process with fast backoff; stopped after the test. */
  const supervise = (script: string, spec: Partial<SupervisedProcessSpec> = {}): SupervisedProcess => {
    const proc = new SupervisedProcess({
      name: 'test',
      command: 'sh',
      args: ['-c', script],
      runner,
      stopTimeouts: { quitMs: 100, termMs: 200 },
      ...FAST,
      ...spec,
    });
    created.push(proc);
    proc.start();
    return proc;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'heldar-supervised-'));
  });

  afterEach(async () => {
    await Promise.all(created.map((p) => p.stop()));
    created = [];
    await rm(dir, { recursive: true, force: true });
  });

  it('hands every complete stdout line to onStdoutLine, split across chunks, as it is written', async () => {
    const got: string[] = [];
    const proc = supervise(`printf 'a.mp4,0,2\\nb.mp'; sleep 0.2; printf '4,2,4\\r\\n'; exec sleep 5`, {
      onStdoutLine: (l) => got.push(l),
    });
    await waitFor(() => got.length >= 1);
    expect(got).toEqual(['a.mp4,0,2']); // the second line is not complete yet
    await waitFor(() => got.length >= 2);
    expect(got).toEqual(['a.mp4,0,2', 'b.mp4,2,4']);
    expect(proc.state).toBe('running');
  });

  it('treats exit code 0 as a failure and restarts the child', async () => {
    const file = join(dir, 'spawns');
    const states: ProcessState[] = [];
    const pids: number[] = [];
    const proc = supervise(`echo run >> ${file}; exit 0`, {
      onStateChange: (state) => states.push(state),
      onSpawn: (pid) => pids.push(pid),
    });
    await waitFor(() => pids.length >= 3);
    await waitFor(() => proc.state === 'backing_off');
    expect((await lines(file)).length).toBeGreaterThanOrEqual(3);
    expect(proc.restarts).toBeGreaterThanOrEqual(2);
    expect(proc.lastExit).toMatchObject({ code: 0, signal: null, willRestart: true });
    expect(states.slice(0, 6)).toEqual([
      'starting',
      'running',
      'backing_off',
      'starting',
      'running',
      'backing_off',
    ]);
    expect(proc.status()).toMatchObject({ name: 'test', state: 'backing_off', pid: null });
  });

  it('doubles the backoff delay per consecutive failure, capped at maxMs', async () => {
    const exits: Array<{ at: number; info: ProcessExitInfo }> = [];
    const spawns: number[] = [];
    supervise('exit 1', {
      onExit: (info) => exits.push({ at: Date.now(), info }),
      onSpawn: () => spawns.push(Date.now()),
    });
    await waitFor(() => exits.length >= 5);
    expect(exits.slice(0, 5).map((e) => e.info.restartInMs)).toEqual([50, 100, 200, 400, 400]);
    // The restarts really waited (the timer cannot fire early; allow for Date.now granularity).
    for (let i = 0; i < 4; i++) {
      expect(spawns[i + 1] - exits[i].at).toBeGreaterThanOrEqual(exits[i].info.restartInMs! - 2);
    }
  });

  it('resets the delay after a healthy run and re-evaluates args on every start', async () => {
    const delays: Array<number | null> = [];
    let starts = 0;
    // Runs 1-3 fail fast, run 4 stays up past healthyAfterMs, run 5 fails fast again.
    supervise('', {
      args: () => ['-c', ++starts === 4 ? 'sleep 0.3' : 'exit 1'],
      backoff: { initialMs: 50, maxMs: 400, healthyAfterMs: 100 },
      onExit: (info) => delays.push(info.restartInMs),
    });
    await waitFor(() => delays.length >= 5);
    expect(delays.slice(0, 5)).toEqual([50, 100, 200, 50, 100]);
  });

  it('accepts async args', async () => {
    const file = join(dir, 'async');
    const proc = supervise('', { args: async () => ['-c', `echo ok >> ${file}; exec sleep 30`] });
    expect(proc.state).toBe('starting');
    await waitFor(async () => (await lines(file)).length === 1);
    expect(proc.state).toBe('running');
    expect(alive(proc.pid!)).toBe(true);
  });

  it('treats a throwing args() as a failure with backoff and reports the message', async () => {
    const exits: ProcessExitInfo[] = [];
    const proc = supervise('', {
      args: () => {
        throw new Error('no stream url for rtsp://admin:secret@cam/1');
      },
      onExit: (info) => exits.push(info),
    });
    await waitFor(() => exits.length >= 3);
    expect(exits.map((e) => e.restartInMs).slice(0, 3)).toEqual([50, 100, 200]);
    expect(exits[0]).toMatchObject({ code: null, signal: null, runtimeMs: 0, willRestart: true });
    expect(exits[0].stderrTail).toContain('args() failed: no stream url for rtsp://***@cam/1');
    expect(exits[0].error).toContain('no stream url');
    expect(proc.pid).toBeUndefined();
  });

  it('retries a nonexistent command with backoff and never throws', async () => {
    const exits: ProcessExitInfo[] = [];
    const proc = supervise('', {
      command: '/nonexistent/heldar-ffmpeg',
      args: ['-i', 'x'],
      onExit: (info) => exits.push(info),
    });
    await waitFor(() => exits.length >= 3);
    expect(exits.map((e) => e.restartInMs).slice(0, 3)).toEqual([50, 100, 200]);
    expect(exits[0].error).toMatch(/ENOENT/);
    expect(exits[0].stderrTail).toMatch(/spawn failed: .*ENOENT/);
    expect(proc.restarts).toBeGreaterThanOrEqual(2);
    expect(['backing_off', 'starting']).toContain(proc.state);
  });

  it('stop() writes q first: a child that quits on q exits before any signal', async () => {
    const file = join(dir, 'quit');
    const exits: ProcessExitInfo[] = [];
    const proc = supervise(`read line; echo "got:$line" >> ${file}; exit 0`, {
      stopTimeouts: { quitMs: 2000, termMs: 2000 },
      onExit: (info) => exits.push(info),
    });
    await waitFor(() => proc.state === 'running');
    const pid = proc.pid!;
    const started = Date.now();
    await proc.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await lines(file)).toEqual(['got:q']);
    expect(proc.lastExit).toMatchObject({ code: 0, signal: null, willRestart: false, restartInMs: null });
    expect(exits).toHaveLength(1);
    expect(proc.state).toBe('stopped');
    expect(alive(pid)).toBe(false);
  });

  it('sends SIGTERM after quitMs when q is ignored', async () => {
    const proc = supervise('exec sleep 30', { stopTimeouts: { quitMs: 100, termMs: 2000 } });
    await waitFor(() => proc.state === 'running');
    const started = Date.now();
    await proc.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(proc.lastExit).toMatchObject({ code: null, signal: 'SIGTERM', willRestart: false });
  });

  it('SIGKILLs a child that ignores q and traps TERM after quitMs + termMs', async () => {
    // exec keeps the ignored TERM disposition and avoids an orphaned grandchild.
    const proc = supervise('trap "" TERM; exec sleep 30', { stopTimeouts: { quitMs: 100, termMs: 100 } });
    await waitFor(() => proc.state === 'running');
    const pid = proc.pid!;
    const started = Date.now();
    await proc.stop();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1500);
    expect(proc.lastExit).toMatchObject({ signal: 'SIGKILL', willRestart: false });
    expect(alive(pid)).toBe(false);
  });

  it('stop() during backing_off cancels the pending restart and resolves at once', async () => {
    const spawns: number[] = [];
    const proc = supervise('exit 1', {
      backoff: { initialMs: 300, maxMs: 400, healthyAfterMs: 10000 },
      onSpawn: (pid) => spawns.push(pid),
    });
    await waitFor(() => proc.state === 'backing_off');
    const started = Date.now();
    await proc.stop();
    expect(Date.now() - started).toBeLessThan(50);
    expect(proc.state).toBe('stopped');
    await sleep(400);
    expect(spawns).toHaveLength(1);
    expect(proc.restarts).toBe(0);
  });

  it('kick() ends a hung child as a failure: SIGTERM (then SIGKILL), and it is restarted with backoff', async () => {
    const exits: ProcessExitInfo[] = [];
    const pids: number[] = [];
    const proc = supervise('trap "" TERM; while :; do sleep 0.05; done', {
      onExit: (info) => exits.push(info),
      onSpawn: (pid) => pids.push(pid),
    });
    await waitFor(() => proc.state === 'running');
    await new Promise((r) => setTimeout(r, 200)); // the trap is set
    proc.kick(); // TERM is trapped: SIGKILL after termMs
    await waitFor(() => pids.length >= 2);
    expect(exits[0]).toMatchObject({ signal: 'SIGKILL', willRestart: true, restartInMs: 50 });
    expect(proc.stopRequested).toBe(false);
    expect(proc.restarts).toBe(1);
  });

  it('stop() is idempotent', async () => {
    const proc = supervise('exec sleep 30', { stopTimeouts: { quitMs: 50, termMs: 200 } });
    const first = proc.stop();
    expect(proc.stop()).toBe(first);
    await first;
    await expect(proc.stop()).resolves.toBeUndefined();
    expect(proc.state).toBe('stopped');
    expect(() => proc.start()).toThrow(/cannot start after stop/);
  });

  it('keeps a bounded, redacted stderr tail', async () => {
    const seen: string[] = [];
    const exits: ProcessExitInfo[] = [];
    const script =
      'for i in $(seq 1 200); do echo "line $i rtsp://user:pass@host/stream" >&2; done; ' +
      "printf 'last rtsp://user:pass@host/x' >&2; exit 1";
    const proc = supervise(script, {
      stderrTailBytes: 256,
      onStderrLine: (line) => seen.push(line),
      onExit: (info) => exits.push(info),
    });
    await waitFor(() => exits.length >= 1);
    const tail = exits[0].stderrTail;
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(256);
    expect(Buffer.byteLength(tail)).toBeGreaterThan(200);
    expect(tail).toContain('line 200 rtsp://***@host/stream\nlast rtsp://***@host/x');
    expect(tail.endsWith('last rtsp://***@host/x')).toBe(true);
    expect(tail).not.toContain('user:pass');
    expect(seen).toHaveLength(201);
    expect(seen[0]).toBe('line 1 rtsp://***@host/stream');
    expect(seen.join('\n')).not.toContain('user:pass');
    expect(proc.stderrTail()).not.toContain('user:pass');
  });

  it('masks its redact strings in stderr lines, the tail and an args() failure', async () => {
    const seen: string[] = [];
    const exits: ProcessExitInfo[] = [];
    const proc = supervise(
      'echo "[rtsp @ 0x1] cannot open rtsp://cam/live/hunter2?pwd=hunter2" >&2; exit 1',
      {
        redact: ['hunter2'],
        onStderrLine: (line) => seen.push(line),
        onExit: (info) => exits.push(info),
      },
    );
    await waitFor(() => exits.length >= 1);
    await proc.stop();
    expect(seen).toEqual(['[rtsp @ 0x1] cannot open rtsp://cam/live/***?pwd=***']);
    expect(exits[0].stderrTail).toBe('[rtsp @ 0x1] cannot open rtsp://cam/live/***?pwd=***');

    const failed: ProcessExitInfo[] = [];
    const bad = supervise('', {
      redact: ['hunter2'],
      args: () => {
        throw new Error('cannot build rtsp://cam/live/hunter2');
      },
      onExit: (info) => failed.push(info),
    });
    await waitFor(() => failed.length >= 1);
    await bad.stop();
    expect(failed[0].error).toBe('args() failed: cannot build rtsp://cam/live/***');
    expect(failed[0].stderrTail).not.toContain('hunter2');
  });

  it('drains chatty stdout and stderr so the child never blocks on a full pipe', async () => {
    const file = join(dir, 'drained');
    const proc = supervise(
      `head -c 1000000 /dev/zero; head -c 1000000 /dev/zero | tr '\\0' x >&2; echo done > ${file}; exec sleep 30`,
      { stderrTailBytes: 1024 },
    );
    // Without draining, the child would block on the first 64 KiB and never write the file.
    await waitFor(async () => (await lines(file)).length > 0);
    expect(proc.state).toBe('running');
    expect(Buffer.byteLength(proc.stderrTail())).toBeLessThanOrEqual(1024);
  });
});

describe('ProcessSupervisor', () => {
  const runner = new ProcessRunner();
  let supervisor: ProcessSupervisor;
  let dir: string;

  const spec = (script: string, extra: Partial<ManagedProcessSpec> = {}): ManagedProcessSpec => ({
    name: 'sup-test',
    command: 'sh',
    args: ['-c', script],
    stopTimeouts: { quitMs: 100, termMs: 200 },
    ...FAST,
    ...extra,
  });

  beforeEach(async () => {
    supervisor = new ProcessSupervisor(runner);
    dir = await mkdtemp(join(tmpdir(), 'heldar-supervisor-'));
  });

  afterEach(async () => {
    await supervisor.stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('ensure() twice with the same key gives one child', async () => {
    const spawns: number[] = [];
    const a = supervisor.ensure('cam-1', spec('exec sleep 30', { onSpawn: (pid) => spawns.push(pid) }));
    const b = supervisor.ensure('cam-1', spec('exec sleep 30', { onSpawn: (pid) => spawns.push(pid) }));
    expect(b).toBe(a);
    await sleep(150);
    expect(spawns).toHaveLength(1);
    expect(supervisor.get('cam-1')).toBe(a);
    expect(supervisor.list()).toEqual([
      { key: 'cam-1', status: expect.objectContaining({ state: 'running' }) },
    ]);
  });

  it('replace() stops the old child before starting the new one', async () => {
    const file = join(dir, 'order');
    const old = supervisor.ensure(
      'cam-1',
      spec(`read line; sleep 0.2; echo old-exit >> ${file}; exit 0`, {
        stopTimeouts: { quitMs: 2000, termMs: 200 },
      }),
    );
    await waitFor(() => old.state === 'running');
    const replacing = supervisor.replace('cam-1', spec(`echo new-start >> ${file}; exec sleep 30`));
    // Registered at once: ensure() during the replacement returns the new instance, not a third child.
    const current = supervisor.ensure('cam-1', spec('exit 1'));
    const next = await replacing;
    expect(current).toBe(next);
    expect(next).not.toBe(old);
    expect(old.state).toBe('stopped');
    await waitFor(async () => (await lines(file)).length >= 2);
    expect(next.state).toBe('running');
    expect(await lines(file)).toEqual(['old-exit', 'new-start']);
  });

  it('stop(key) stops and forgets the process', async () => {
    const proc = supervisor.ensure('cam-1', spec('exec sleep 30'));
    await waitFor(() => proc.state === 'running');
    const pid = proc.pid!;
    await supervisor.stop('cam-1');
    expect(supervisor.get('cam-1')).toBeUndefined();
    expect(alive(pid)).toBe(false);
    await expect(supervisor.stop('unknown')).resolves.toBeUndefined();
  });

  it('stopAll() stops every child in parallel and leaves no live pid', async () => {
    // Each child ignores q and needs SIGTERM after quitMs: sequential stops would take 3 x 300 ms.
    const procs = ['a', 'b', 'c'].map((key) =>
      supervisor.ensure(key, spec('exec sleep 30', { stopTimeouts: { quitMs: 300, termMs: 500 } })),
    );
    await waitFor(() => procs.every((p) => p.state === 'running'));
    const pids = procs.map((p) => p.pid!);
    expect(pids.every(alive)).toBe(true);
    const started = Date.now();
    await supervisor.stopAll();
    expect(Date.now() - started).toBeLessThan(800);
    expect(supervisor.list()).toEqual([]);
    for (const pid of pids)
      expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('refuses to start children after application shutdown', async () => {
    const proc = supervisor.ensure('cam-1', spec('exec sleep 30'));
    await supervisor.onApplicationShutdown();
    expect(proc.state).toBe('stopped');
    expect(() => supervisor.ensure('cam-2', spec('exec sleep 30'))).toThrow(/shut down/);
  });
});

describe('LineSplitter', () => {
  it.each([
    [['a\nb\n'], ['a', 'b']],
    [['a', 'b\n', 'c'], ['ab']],
    [['x\r\n\n'], ['x', '']],
    [['y'.repeat(5000)], ['y'.repeat(4096)]],
  ])('case %#', (chunks, expected) => {
    const out: string[] = [];
    const s = new LineSplitter((l) => out.push(l));
    for (const c of chunks) s.push(Buffer.from(c));
    expect(out).toEqual(expected);
  });
});
