import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { sealedIn } from '../common/secret-box';

/**
 * Standard Webhooks (https://www.standardwebhooks.com): the signed content is
 * `<webhook-id>.<webhook-timestamp>.<body>`, HMAC-SHA256 keyed with the base64 part of the
 * `whsec_` secret, sent as `webhook-signature: v1,<base64>`.
 */
export const SECRET_PREFIX = 'whsec_';

/** Associated data of a subscription's sealed signing secret (`webhooks.secret:<id>`). */
export const webhookSecretAad = (id: string): string => sealedIn('webhooks', 'secret', id);

export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** Null when acceptable, else why not: `whsec_` + base64 of 24 to 64 bytes. */
export function secretProblem(secret: string): string | null {
  if (!secret.startsWith(SECRET_PREFIX)) return 'secret must start with whsec_';
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return 'secret must be whsec_ followed by base64';
  const n = Buffer.from(b64, 'base64').length;
  if (n < 24 || n > 64) return 'secret must hold 24 to 64 bytes of key material';
  return null;
}

/** The HMAC key of a `whsec_` secret, decoded once (a sender keeps it per subscription). */
export function signingKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64'));
}

/** `secret` is the `whsec_` string, or its key from signingKey(). */
export function sign(secret: string | KeyObject, msgId: string, timestampS: number, body: string): string {
  const key = typeof secret === 'string' ? signingKey(secret) : secret;
  const mac = createHmac('sha256', key).update(`${msgId}.${timestampS}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export function signedHeaders(
  secret: string | KeyObject,
  msgId: string,
  timestampS: number,
  body: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': sign(secret, msgId, timestampS, body),
  };
}

/** Seconds to wait after attempt `n` (1-based) failed, ±20 % jitter; null = no attempt left. */
export function retryDelayMs(
  scheduleS: readonly number[],
  attempt: number,
  rand = Math.random,
): number | null {
  if (attempt > scheduleS.length) return null;
  const base = scheduleS[attempt - 1] * 1000;
  return Math.round(base * (0.8 + 0.4 * rand()));
}

/** Does `type` match one of the subscription's patterns (exact, `prefix*`, or `*`)? */
export function typeMatches(patterns: readonly string[], type: string): boolean {
  return patterns.some(
    (p) => p === '*' || p === type || (p.endsWith('*') && type.startsWith(p.slice(0, -1))),
  );
}
