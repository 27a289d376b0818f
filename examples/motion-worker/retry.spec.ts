import { backoffMs, DEFAULT_RETRY, retryAfterMs, withRetry } from './retry';

const answer = (status: number, headers: Record<string, string> = {}) => ({
  response: new Response(null, { status, headers }),
});

/** Hooks that record the delays instead of sleeping. */
function hooks() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms), random: () => 0.5 };
}

describe('withRetry', () => {
  it('retries network errors and 5xx until an answer, with doubling delays', async () => {
    const h = hooks();
    const calls = [
      () => Promise.reject(new TypeError('fetch failed')),
      () => Promise.resolve(answer(502)),
      () => Promise.resolve(answer(200)),
    ];
    let n = 0;
    const res = await withRetry(() => calls[n++](), DEFAULT_RETRY, h);
    expect(res.response.status).toBe(200);
    expect(n).toBe(3);
    expect(h.delays).toEqual([500, 1000]);
  });

  it('never retries a 4xx other than 429', async () => {
    const h = hooks();
    let n = 0;
    const res = await withRetry(async () => (n++, answer(400)), DEFAULT_RETRY, h);
    expect(res.response.status).toBe(400);
    expect(n).toBe(1);
  });

  it('honours Retry-After on a 503 (up to the cap)', async () => {
    const h = hooks();
    let n = 0;
    await withRetry(
      async () => (n++ === 0 ? answer(503, { 'retry-after': '3' }) : answer(200)),
      DEFAULT_RETRY,
      h,
    );
    expect(h.delays).toEqual([3000]);
    const capped = hooks();
    let m = 0;
    await withRetry(
      async () => (m++ === 0 ? answer(429, { 'retry-after': '3600' }) : answer(200)),
      DEFAULT_RETRY,
      capped,
    );
    expect(capped.delays).toEqual([DEFAULT_RETRY.maxMs]);
  });

  it('gives up after the last try: the last answer, or the last network error', async () => {
    const policy = { attempts: 3, baseMs: 10, maxMs: 100 };
    let n = 0;
    expect((await withRetry(async () => (n++, answer(500)), policy, hooks())).response.status).toBe(500);
    expect(n).toBe(3);
    await expect(withRetry(() => Promise.reject(new Error('ECONNREFUSED')), policy, hooks())).rejects.toThrow(
      'ECONNREFUSED',
    );
  });

  it('stops retrying once the worker is stopping', async () => {
    let stopped = false;
    let n = 0;
    const res = await withRetry(async () => (n++, answer(503)), DEFAULT_RETRY, {
      sleep: async () => void (stopped = true),
      stopped: () => stopped,
    });
    expect(res.response.status).toBe(503);
    expect(n).toBe(1);
  });
});

describe('backoff', () => {
  it('doubles from the base, is capped, and jitters by ±20 %', () => {
    const p = { attempts: 10, baseMs: 500, maxMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((r) => backoffMs(r, p, () => 0.5))).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    expect(backoffMs(1, p, () => 0)).toBe(400);
    expect(backoffMs(1, p, () => 1)).toBe(600);
    expect(backoffMs(9, p, () => 1)).toBe(10_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(61_000).toUTCString(), 1_000)).toBe(60_000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(null)).toBeNull();
  });
});
