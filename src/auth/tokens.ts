import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Session tokens `vos_<64 hex>` and API keys `vok_<64 hex>`: 256-bit random, only their SHA-256 is stored. */
export function newSessionToken(): string {
  return `vos_${randomBytes(32).toString('hex')}`;
}

export function newApiKey(): string {
  return `vok_${randomBytes(32).toString('hex')}`;
}

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Value of one cookie from a Cookie header (the first when the name repeats). A value that is not
 * valid percent-encoding (`%`, `%E0%A4%A`) is returned as sent: it is then simply a wrong credential.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeCookieValue(part.slice(eq + 1).trim());
  }
  return undefined;
}

function decodeCookieValue(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
