import { loadConfig } from '../config/heldar-config';
import { MEDIA_JOB_WAIT_MS, MediaJobs, ProbeGovernor, ProbeSlots } from './media-jobs';

describe('MediaJobs', () => {
  afterEach(() => jest.useRealTimers());

  it('runs at most N jobs; a waiter gets a slot when one ends', async () => {
    const jobs = new MediaJobs(loadConfig({ HELDAR_MEDIA_JOB_CONCURRENCY: '1' }));
    const order: string[] = [];
    let release!: () => void;
    const first = jobs.run(() => new Promise<void>((r) => (release = r)).then(() => order.push('first')));
    const second = jobs.run(async () => order.push('second'));
    await Promise.resolve();
    expect(order).toEqual([]);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });

  it('answers 503 with Retry-After when no slot frees within 10 s', async () => {
    jest.useFakeTimers();
    const jobs = new MediaJobs(loadConfig({ HELDAR_MEDIA_JOB_CONCURRENCY: '1' }));
    void jobs.run(() => new Promise(() => undefined)); // never ends
    const waiting = jobs.run(async () => 'never');
    jest.advanceTimersByTime(MEDIA_JOB_WAIT_MS + 1);
    await expect(waiting).rejects.toMatchObject({
      status: 503,
      code: 'MEDIA_BUSY',
      headers: { 'Retry-After': '5' },
    });
  });
});

describe('ProbeSlots', () => {
  it.each([
    // [held before, key asking, expected refusal]
    [[], 'a', null],
    [['a'], 'a', null],
    [['a', 'a'], 'a', 'principal'],
    [['a', 'a'], 'b', null],
    [['a', 'a', 'b', 'b'], 'c', 'global'],
    [['a', 'b', 'c', 'd'], 'a', 'global'],
    [['a', 'a', 'b', 'b'], 'a', 'principal'],
  ] as Array<[string[], string, string | null]>)('held %j, %s asks → %s', (held, key, refusal) => {
    const slots = new ProbeSlots(4, 2);
    for (const k of held) expect(slots.acquire(k)).toBeNull();
    expect(slots.acquire(key)).toBe(refusal);
    expect(slots.inFlight).toBe(held.length + (refusal === null ? 1 : 0));
  });

  it('a released slot is free again; releasing what was never held changes nothing', () => {
    const slots = new ProbeSlots(1, 1);
    expect(slots.acquire('a')).toBeNull();
    expect(slots.acquire('b')).toBe('global');
    slots.release('b');
    expect(slots.inFlight).toBe(1);
    slots.release('a');
    expect(slots.acquire('b')).toBeNull();
  });

  it('a caller without a per-caller limit (auth off: the system principal) is bounded by the global limit only', () => {
    const slots = new ProbeSlots(3, 1);
    expect(slots.acquire(null)).toBeNull();
    expect(slots.acquire(null)).toBeNull();
    expect(slots.acquire('a')).toBeNull();
    expect(slots.acquire(null)).toBe('global');
    slots.release('b');
    slots.release(null);
    expect(slots.inFlight).toBe(2);
    slots.release(null);
    slots.release(null);
    expect(slots.inFlight).toBe(1);
    expect(slots.acquire(null)).toBeNull();
  });
});

describe('ProbeGovernor', () => {
  it('refuses at once with 503 PROBE_BUSY and Retry-After (the probe timeout), frees slots when probes end', async () => {
    const gov = new ProbeGovernor(
      loadConfig({
        HELDAR_PROBE_CONCURRENCY: '2',
        HELDAR_PROBE_CONCURRENCY_PER_PRINCIPAL: '1',
        HELDAR_CAMERA_TEST_TIMEOUT_MS: '3000',
      }),
    );
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    const first = gov.run('user:a', () => hung);
    await expect(gov.run('user:a', async () => 'x')).rejects.toMatchObject({
      status: 503,
      code: 'PROBE_BUSY',
      headers: { 'Retry-After': '3' },
    });
    const second = gov.run('user:b', () => hung);
    await expect(gov.run('user:c', async () => 'x')).rejects.toMatchObject({
      status: 503,
      code: 'PROBE_BUSY',
    });
    release();
    await Promise.all([first, second]);
    await expect(gov.run('user:a', async () => 'ok')).resolves.toBe('ok');
  });

  it('a probe that throws gives its slot back', async () => {
    const gov = new ProbeGovernor(loadConfig({ HELDAR_PROBE_CONCURRENCY: '1' }));
    await expect(gov.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gov.run('k', async () => 'ok')).resolves.toBe('ok');
  });
});
