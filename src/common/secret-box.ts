import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const LEGACY_PREFIX = 'enc:v1:';
const PREFIX = 'enc:v2:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {}

/**
 * What a sealed value is bound to: its table, column and row (`cameras.password:cam_a`). Sealed
 * with it as GCM associated data, the value opens only in that place: copied into another row or
 * column it fails to open instead of handing that row someone else's secret.
 */
export function sealedIn(table: string, column: string, rowId: string): string {
  return `${table}.${column}:${rowId}`;
}

/**
 * AES-256-GCM sealing for credentials at rest: `enc:v2:<base64(nonce‖ciphertext‖tag)>`, bound to
 * where it is stored (`aad`, see `sealedIn`). `enc:v1:` values (no associated data, before the
 * binding) still open, and are re-sealed as v2 by their owners at boot.
 * The key also derives viewer tokens and frame tickets later, so it must survive restarts.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new SecretBoxError('secret key must be 32 bytes');
    this.key = Buffer.from(key);
  }

  static isSealed(value: string | null | undefined): boolean {
    return typeof value === 'string' && (value.startsWith(PREFIX) || value.startsWith(LEGACY_PREFIX));
  }

  /** True for a value still to be re-sealed as v2: v1 (unbound) or plaintext. */
  static needsReseal(value: string | null | undefined): value is string {
    return typeof value === 'string' && value !== '' && !value.startsWith(PREFIX);
  }

  seal(plaintext: string, aad: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
  }

  /**
   * Opens a value sealed for `aad`; a v1 value opens without it (legacy); a plaintext
   * (unsealed) value is returned unchanged. A v2 value sealed for another place throws.
   */
  open(value: string, aad: string): string {
    const v2 = value.startsWith(PREFIX);
    if (!v2 && !value.startsWith(LEGACY_PREFIX)) return value;
    const blob = Buffer.from(value.slice(PREFIX.length), 'base64');
    if (blob.length < NONCE_BYTES + TAG_BYTES) throw new SecretBoxError('sealed value is truncated');
    const nonce = blob.subarray(0, NONCE_BYTES);
    const tag = blob.subarray(blob.length - TAG_BYTES);
    const body = blob.subarray(NONCE_BYTES, blob.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce);
    if (v2) decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(
        v2
          ? `sealed value of ${aad} cannot be opened: it was sealed for another row or column (copied there?) or with another key (wrong HELDAR_SECRET_KEY?)`
          : 'sealed value cannot be opened with this key (wrong HELDAR_SECRET_KEY?)',
      );
    }
  }

  sealNullable(value: string | null | undefined, aad: string): string | null {
    return value === null || value === undefined || value === '' ? null : this.seal(value, aad);
  }

  openNullable(value: string | null | undefined, aad: string): string | null {
    return value === null || value === undefined ? null : this.open(value, aad);
  }

  /** Derive a purpose-specific sub-key (HMAC keys for viewer tokens, frame tickets …). */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `heldar:${purpose}`, 32));
  }
}

/** Decode `HELDAR_SECRET_KEY` (base64 of 32 bytes); returns an error message or the key. */
export function decodeSecretKey(b64: string): Buffer | string {
  const key = Buffer.from(b64.trim(), 'base64');
  return key.length === 32 ? key : `must be base64 of exactly 32 bytes (got ${key.length} bytes)`;
}

/**
 * The configured key, else `<data>/secret.key` (created on first boot with mode 0600).
 * Returns the key and where it came from (for the boot log; never the key itself).
 */
export function loadOrCreateSecretKey(
  configured: string | undefined,
  keyFile: string,
): { key: Buffer; source: 'env' | 'file' | 'generated' } {
  if (configured) {
    const key = decodeSecretKey(configured);
    if (typeof key === 'string') throw new SecretBoxError(`HELDAR_SECRET_KEY ${key}`);
    return { key, source: 'env' };
  }
  if (existsSync(keyFile)) {
    const key = decodeSecretKey(readFileSync(keyFile, 'utf8'));
    if (typeof key === 'string') throw new SecretBoxError(`${keyFile} ${key}`);
    return { key, source: 'file' };
  }
  mkdirSync(dirname(keyFile), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(keyFile, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(keyFile, 0o600);
  return { key, source: 'generated' };
}
