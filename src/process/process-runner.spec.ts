import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessRunner, type ChildHandle, withParentDeathSignal } from './process-runner';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function exitOf(handle: ChildHandle): Promise<Exit> {
  return new Promise((resolve) => handle.onExit((code, signal) => resolve({ code, signal })));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

describe('ProcessRunner', () => {
  const runner = new ProcessRunner();
  let handles: ChildHandle[] = [];
  let strays: number[] = [];
  let dir: string;

  const spawn = (script: string): ChildHandle => {
    const handle = runner.spawn('sh', ['-c', script], { cwd: dir });
    handles.push(handle);
    return handle;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'heldar-runner-'));
  });

  afterEach(async () => {
    handles.forEach((h) => h.kill('SIGKILL'));
    for (const pid of strays) if (alive(pid)) process.kill(pid, 'SIGKILL');
    handles = [];
    strays = [];
    await rm(dir, { recursive: true, force: true });
  });

  describe('spawn', () => {
    it('exposes the pid, stdout and stderr chunks and the exit code', async () => {
      const handle = spawn('echo out; echo err >&2; exit 3');
      let out = '';
      let err = '';
      handle.onStdout((c) => (out += c.toString()));
      handle.onStderr((c) => (err += c.toString()));
      expect(handle.pid).toEqual(expect.any(Number));
      await expect(exitOf(handle)).resolves.toEqual({ code: 3, signal: null });
      expect(out).toBe('out\n');
      expect(err).toBe('err\n');
    });

    it('passes cwd and env to the child', async () => {
      const handle = runner.spawn('sh', ['-c', 'echo "$PWD $HELDAR_X"'], {
        cwd: dir,
        env: { ...process.env, HELDAR_X: 'y' },
      });
      handles.push(handle);
      let out = '';
      handle.onStdout((c) => (out += c.toString()));
      await exitOf(handle);
      expect(out.trim()).toMatch(new RegExp(`${dir.split('/').pop()} y$`));
    });

    it('delivers stdin to the child', async () => {
      const handle = spawn('read line; echo "got:$line"');
      let out = '';
      handle.onStdout((c) => (out += c.toString()));
      handle.stdin.write('hello\n');
      await exitOf(handle);
      expect(out).toBe('got:hello\n');
    });

    it('delivers all output written just before exit before onExit fires', async () => {
      const handle = spawn('head -c 300000 /dev/zero; exit 0');
      let bytes = 0;
      handle.onStdout((c) => (bytes += c.length));
      await exitOf(handle);
      expect(bytes).toBe(300000);
    });

    it('kills with a signal; kill and stdin writes after exit are harmless', async () => {
      const handle = spawn('exec sleep 30');
      const exit = exitOf(handle);
      expect(handle.kill('SIGTERM')).toBe(true);
      await expect(exit).resolves.toEqual({ code: null, signal: 'SIGTERM' });
      expect(handle.kill('SIGKILL')).toBe(false);
      expect(handle.stdin.write('q')).toBe(false);
      expect(() => handle.stdin.end()).not.toThrow();
      expect(alive(handle.pid!)).toBe(false);
    });

    it('reports a nonexistent command through onError, never onExit', async () => {
      const handle = runner.spawn('/nonexistent/heldar-nope', []);
      const onExit = jest.fn();
      handle.onExit(onExit);
      const err = await new Promise<Error>((resolve) => handle.onError(resolve));
      expect(handle.pid).toBeUndefined();
      expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
      expect(handle.stdin.write('q')).toBe(false);
      await new Promise((r) => setTimeout(r, 300));
      expect(onExit).not.toHaveBeenCalled();
    });

    it('reports the exit even when a grandchild keeps the pipes open', async () => {
      const handle = spawn('sleep 5 & echo $!; exit 0');
      let out = '';
      handle.onStdout((c) => (out += c.toString()));
      const started = Date.now();
      await expect(exitOf(handle)).resolves.toEqual({ code: 0, signal: null });
      strays.push(Number(out.trim()));
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  describe('runToCompletion', () => {
    it('captures stdout, redacted stderr and the exit code', async () => {
      const result = await runner.runToCompletion(
        'sh',
        ['-c', 'echo hello; echo "open rtsp://user:pass@cam/x failed" >&2; exit 2'],
        { timeoutMs: 5000, maxOutputBytes: 1024 },
      );
      expect(result).toEqual({
        code: 2,
        signal: null,
        stdout: 'hello\n',
        stderr: 'open rtsp://***@cam/x failed',
        timedOut: false,
        truncated: false,
      });
    });

    it('masks the given secrets wherever they sit in stderr (a password in the URL path)', async () => {
      const url = 'rtsp://admin:Sup3r%21@cam/live/admin/Sup3r%21?user=admin&password=Sup3r%21';
      const result = await runner.runToCompletion(
        'sh',
        ['-c', `echo "${url}: Connection refused" >&2; exit 1`],
        {
          timeoutMs: 5000,
          maxOutputBytes: 1024,
          redact: ['Sup3r!', 'Sup3r%21', 'admin:Sup3r%21'],
        },
      );
      expect(result.stderr).toBe('rtsp://***@cam/live/admin/***?user=***&password=***: Connection refused');
    });

    it('SIGKILLs the child on timeout and reports timedOut', async () => {
      const started = Date.now();
      const result = await runner.runToCompletion('sh', ['-c', 'trap "" TERM; echo partial; exec sleep 30'], {
        timeoutMs: 150,
        maxOutputBytes: 1024,
      });
      expect(result).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: true, stdout: 'partial\n' });
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('bounds captured output: stdout keeps its head, stderr its tail', async () => {
      const result = await runner.runToCompletion(
        'sh',
        ['-c', "head -c 100000 /dev/zero | tr '\\0' a; seq 1 10000 >&2"],
        { timeoutMs: 5000, maxOutputBytes: 1000 },
      );
      expect(result.code).toBe(0);
      expect(result.truncated).toBe(true);
      expect(result.stdout).toBe('a'.repeat(1000));
      expect(Buffer.byteLength(result.stderr)).toBeLessThanOrEqual(1000);
      expect(result.stderr.endsWith('\n9999\n10000')).toBe(true);
    });

    it('rejects when the command cannot be started', async () => {
      await expect(
        runner.runToCompletion('/nonexistent/heldar-nope', [], { timeoutMs: 1000, maxOutputBytes: 1024 }),
      ).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
});

describe('withParentDeathSignal', () => {
  it('wraps an executable in setpriv --pdeathsig TERM (same pid after exec) and leaves a missing one alone', () => {
    expect(withParentDeathSignal('sh', ['-c', 'true'])).toEqual([
      '/usr/bin/setpriv',
      ['--pdeathsig', 'TERM', '--', 'sh', '-c', 'true'],
    ]);
    // A command that cannot be found is not wrapped, so its spawn still fails with ENOENT.
    expect(withParentDeathSignal('/nonexistent/heldar-nope', ['x'])).toEqual([
      '/nonexistent/heldar-nope',
      ['x'],
    ]);
    expect(withParentDeathSignal('heldar-nope-not-on-path', [])).toEqual(['heldar-nope-not-on-path', []]);
  });

  it('a wrapped child keeps the pid the runner reports and is signalled when its parent dies', async () => {
    const runner = new ProcessRunner();
    // A parent shell that starts a wrapped sleeper, prints its pid, then dies by SIGKILL.
    const [cmd, args] = withParentDeathSignal('sleep', ['60']);
    const script = `${[cmd, ...args].join(' ')} & echo $!; sleep 0.3; kill -9 $$`;
    const r = await runner.runToCompletion('sh', ['-c', script], { timeoutMs: 10_000, maxOutputBytes: 1000 });
    const pid = Number(r.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    const deadline = Date.now() + 3000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      try {
        process.kill(pid, 0);
        await new Promise((res) => setTimeout(res, 50));
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
  });
});
