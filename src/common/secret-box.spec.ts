import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateSecretKey, SecretBox, SecretBoxError } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(Buffer.alloc(32, 7));

  it('seals to enc:v1: and opens back', () => {
    const sealed = box.seal('hunter2 ✓');
    expect(sealed).toMatch(/^enc:v1:[A-Za-z0-9+/]+=*$/);
    expect(sealed).not.toContain('hunter2');
    expect(box.open(sealed)).toBe('hunter2 ✓');
  });

  it('uses a fresh nonce per seal', () => {
    expect(box.seal('x')).not.toBe(box.seal('x'));
  });

  it('nonce ‖ ciphertext ‖ tag layout', () => {
    const blob = Buffer.from(box.seal('abc').slice('enc:v1:'.length), 'base64');
    expect(blob.length).toBe(12 + 3 + 16);
  });

  it('rejects a tampered value and a wrong key', () => {
    const sealed = box.seal('secret');
    const blob = Buffer.from(sealed.slice(7), 'base64');
    blob[14] ^= 1;
    expect(() => box.open('enc:v1:' + blob.toString('base64'))).toThrow(SecretBoxError);
    expect(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed)).toThrow(/wrong HELDAR_SECRET_KEY/);
  });

  it('passes legacy plaintext through', () => {
    expect(box.open('plain')).toBe('plain');
    expect(box.openNullable(null)).toBeNull();
    expect(box.sealNullable('')).toBeNull();
  });

  it('derives distinct purpose keys', () => {
    expect(box.deriveKey('a').equals(box.deriveKey('b'))).toBe(false);
    expect(box.deriveKey('a').equals(box.deriveKey('a'))).toBe(true);
  });
});

describe('loadOrCreateSecretKey', () => {
  it('generates <data>/secret.key with mode 0600 once, then reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'heldar-key-'));
    const file = join(dir, 'sub', 'secret.key');
    const first = loadOrCreateSecretKey(undefined, file);
    expect(first.source).toBe('generated');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadOrCreateSecretKey(undefined, file);
    expect(second.source).toBe('file');
    expect(second.key.equals(first.key)).toBe(true);
    expect(Buffer.from(readFileSync(file, 'utf8'), 'base64').length).toBe(32);
  });

  it('prefers HELDAR_SECRET_KEY and validates it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'heldar-key-'));
    const key = Buffer.alloc(32, 3).toString('base64');
    expect(loadOrCreateSecretKey(key, join(dir, 'k')).source).toBe('env');
    expect(() => loadOrCreateSecretKey('c2hvcnQ=', join(dir, 'k'))).toThrow(/32 bytes/);
    writeFileSync(join(dir, 'bad'), 'nope');
    expect(() => loadOrCreateSecretKey(undefined, join(dir, 'bad'))).toThrow(/32 bytes/);
  });
});
