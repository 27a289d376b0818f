import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const PREFIX = 'enc:v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {}

/**
 * AES-256-GCM sealing for credentials at rest: `enc:v1:<base64(nonce‖ciphertext‖tag)>`.
 * The key also derives viewer tokens and frame tickets later, so it must survive restarts.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new SecretBoxError('secret key must be 32 bytes');
    this.key = Buffer.from(key);
  }

  static isSealed(value: string | null | undefined): boolean {
    return typeof value === 'string' && value.startsWith(PREFIX);
  }

  seal(plaintext: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
  }

  /** Opens a sealed value; a plaintext (legacy/unsealed) value is returned unchanged. */
  open(value: string): string {
    if (!SecretBox.isSealed(value)) return value;
    const blob = Buffer.from(value.slice(PREFIX.length), 'base64');
    if (blob.length < NONCE_BYTES + TAG_BYTES) throw new SecretBoxError('sealed value is truncated');
    const nonce = blob.subarray(0, NONCE_BYTES);
    const tag = blob.subarray(blob.length - TAG_BYTES);
    const body = blob.subarray(NONCE_BYTES, blob.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('sealed value cannot be opened with this key (wrong HELDAR_SECRET_KEY?)');
    }
  }

  sealNullable(value: string | null | undefined): string | null {
    return value === null || value === undefined || value === '' ? null : this.seal(value);
  }

  openNullable(value: string | null | undefined): string | null {
    return value === null || value === undefined ? null : this.open(value);
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
