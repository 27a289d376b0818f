/**
 * Retry with capped exponential backoff for calls to the kernel. A network error (the fetch itself
 * rejects) and a 5xx or 429 answer are retried; any other answer, 4xx included, is returned to the
 * caller at once (retrying a 400 cannot help). `Retry-After` (seconds), which the kernel sends with
 * a 503 when its database is busy, is honoured up to `maxMs`.
 */

export interface RetryPolicy {
  /** Tries in all (1 = no retry). */
  attempts: number;
  /** Delay before the first retry; doubles each time. */
  baseMs: number;
  /** Cap of one delay. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 500, maxMs: 10_000 };

/** Delay before retry number `retry` (1-based): base · 2^(retry−1), capped, ±20 % jitter. */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(Math.min(policy.maxMs, raw * (0.8 + 0.4 * random())));
}

export const isRetryableStatus = (status: number): boolean => status >= 500 || status === 429;

/** `Retry-After` as milliseconds (delta-seconds or an HTTP date), or null. */
export function retryAfterMs(header: string | null, nowMs: number = Date.now()): number | null {
  if (!header) return null;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const at = Date.parse(s);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : null;
}

export interface RetryHooks {
  /** Abortable sleep; rejects when the worker stops. */
  sleep: (ms: number) => Promise<void>;
  /** Told before each retry (for the log). */
  onRetry?: (info: { retry: number; delayMs: number; reason: string }) => void;
  /** True once the worker is stopping: no further tries. */
  stopped?: () => boolean;
  random?: () => number;
}

/**
 * Run `call` until it answers with a non-retryable status or the tries run out; returns the last
 * answer, or throws the last network error.
 */
export async function withRetry<T extends { response: Response }>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let result: T | undefined;
    let error: unknown;
    try {
      result = await call();
    } catch (err) {
      error = err;
    }
    if (result && !isRetryableStatus(result.response.status)) return result;
    if (attempt >= policy.attempts || hooks.stopped?.()) {
      if (result) return result;
      throw error;
    }
    let delayMs = backoffMs(attempt, policy, hooks.random);
    const hinted = result ? retryAfterMs(result.response.headers.get('retry-after')) : null;
    if (hinted !== null) delayMs = Math.min(policy.maxMs, Math.max(delayMs, hinted));
    const reason = result ? `HTTP ${result.response.status}` : describeError(error);
    hooks.onRetry?.({ retry: attempt, delayMs, reason });
    await hooks.sleep(delayMs);
    if (hooks.stopped?.()) {
      if (result) return result;
      throw error;
    }
  }
}

/** A network error in one line (undici hides the reason in `cause`). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
