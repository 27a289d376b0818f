import { KeyedSerialQueue } from './keyed-serial-queue';

/** A task that records its start and end, finishing when `release` is called. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  const task = async () => {
    log.push(`start ${name}`);
    await done;
    log.push(`end ${name}`);
    return name;
  };
  return { task, release };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedSerialQueue', () => {
  it('runs the tasks of one key one at a time, in order', async () => {
    const q = new KeyedSerialQueue();
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const pa = q.run('cam1', a.task);
    const pb = q.run('cam1', b.task);
    await tick();
    expect(log).toEqual(['start a']);
    b.release(); // b may not start before a ends, even when its own work is ready
    await tick();
    expect(log).toEqual(['start a']);
    a.release();
    await expect(pa).resolves.toBe('a');
    await expect(pb).resolves.toBe('b');
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('runs different keys independently', async () => {
    const q = new KeyedSerialQueue();
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const pa = q.run('cam1', a.task);
    const pb = q.run('cam2', b.task);
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    b.release();
    await expect(pb).resolves.toBe('b');
    expect(log).toEqual(['start a', 'start b', 'end b']);
    a.release();
    await pa;
  });

  it('isolates errors: a failed task rejects only its own promise, the next one still runs', async () => {
    const q = new KeyedSerialQueue();
    const failing = q.run('cam1', () => Promise.reject(new Error('boom')));
    const throwing = q.run('cam1', () => {
      throw new Error('sync boom');
    });
    const next = q.run('cam1', () => Promise.resolve(42));
    await expect(failing).rejects.toThrow('boom');
    await expect(throwing).rejects.toThrow('sync boom');
    await expect(next).resolves.toBe(42);
  });

  it('forgets a key once its last task settled, and settled() waits for what is queued', async () => {
    const q = new KeyedSerialQueue();
    const log: string[] = [];
    const a = gate(log, 'a');
    void q.run('cam1', a.task);
    void q.run('cam2', () => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(q.has('cam1')).toBe(true);
    expect(q.size).toBe(2);
    let settled = false;
    const s = q.settled().then(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
    expect(q.has('cam2')).toBe(false);
    a.release();
    await s;
    expect(log).toEqual(['start a', 'end a']);
    await tick();
    expect(q.size).toBe(0);
    expect(q.has('cam1')).toBe(false);
  });

  it('raises no unhandled rejection for a failure the caller handles', async () => {
    const seen: unknown[] = [];
    const onUnhandled = (e: unknown) => seen.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const q = new KeyedSerialQueue();
      await q.run('k', () => Promise.reject(new Error('handled'))).catch(() => undefined);
      await tick();
      await tick();
      expect(seen).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
