import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateSecretKey, SecretBox, SecretBoxError, sealedIn } from './secret-box';

/** A value sealed the way v1 did (no associated data), as older installs hold them. */
function sealV1(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return 'enc:v1:' + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

describe('SecretBox', () => {
  const key = Buffer.alloc(32, 7);
  const box = new SecretBox(key);
  const here = sealedIn('cameras', 'password', 'cam_a');

  it('seals to enc:v2: and opens back in the same place', () => {
    const sealed = box.seal('hunter2 ✓', here);
    expect(sealed).toMatch(/^enc:v2:[A-Za-z0-9+/]+=*$/);
    expect(sealed).not.toContain('hunter2');
    expect(box.open(sealed, here)).toBe('hunter2 ✓');
  });

  it('uses a fresh nonce per seal', () => {
    expect(box.seal('x', here)).not.toBe(box.seal('x', here));
  });

  it('nonce ‖ ciphertext ‖ tag layout', () => {
    const blob = Buffer.from(box.seal('abc', here).slice('enc:v2:'.length), 'base64');
    expect(blob.length).toBe(12 + 3 + 16);
  });

  it('rejects a tampered value and a wrong key', () => {
    const sealed = box.seal('secret', here);
    const blob = Buffer.from(sealed.slice(7), 'base64');
    blob[14] ^= 1;
    expect(() => box.open('enc:v2:' + blob.toString('base64'), here)).toThrow(SecretBoxError);
    expect(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed, here)).toThrow(/wrong HELDAR_SECRET_KEY/);
  });

  it.each([
    ['another row', sealedIn('cameras', 'password', 'cam_b')],
    ['another column', sealedIn('cameras', 'main_stream_url', 'cam_a')],
    ['another table', sealedIn('webhooks', 'secret', 'cam_a')],
    ['a setting', 'settings.value:smtp'],
  ])('a value moved to %s does not open, and says why', (_what, elsewhere) => {
    const sealed = box.seal('hunter2', here);
    expect(() => box.open(sealed, elsewhere)).toThrow(SecretBoxError);
    expect(() => box.open(sealed, elsewhere)).toThrow(
      `sealed value of ${elsewhere} cannot be opened: it was sealed for another row or column`,
    );
    expect(() => box.openNullable(sealed, elsewhere)).toThrow(SecretBoxError);
  });

  it('still opens v1 values (sealed without a place, before the binding)', () => {
    const legacy = sealV1(key, 'old secret');
    expect(SecretBox.isSealed(legacy)).toBe(true);
    expect(box.open(legacy, here)).toBe('old secret');
    expect(box.open(legacy, 'anything')).toBe('old secret');
    expect(() => new SecretBox(Buffer.alloc(32, 8)).open(legacy, here)).toThrow(/wrong HELDAR_SECRET_KEY/);
  });

  it.each([
    [null, false],
    ['', false],
    ['plain', true],
    ['enc:v1:AAAA', true],
    ['enc:v2:AAAA', false],
  ])('needsReseal(%j) = %j', (value, expected) => {
    expect(SecretBox.needsReseal(value)).toBe(expected);
  });

  it('passes legacy plaintext through', () => {
    expect(box.open('plain', here)).toBe('plain');
    expect(box.openNullable(null, here)).toBeNull();
    expect(box.sealNullable('', here)).toBeNull();
  });

  it('derives distinct purpose keys', () => {
    expect(box.deriveKey('a').equals(box.deriveKey('b'))).toBe(false);
    expect(box.deriveKey('a').equals(box.deriveKey('a'))).toBe(true);
  });
});

describe('loadOrCreateSecretKey', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'heldar-key-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('generates <data>/secret.key with mode 0600 once, then reuses it', () => {
    const dir = tempDir();
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
    const dir = tempDir();
    const key = Buffer.alloc(32, 3).toString('base64');
    expect(loadOrCreateSecretKey(key, join(dir, 'k')).source).toBe('env');
    expect(() => loadOrCreateSecretKey('c2hvcnQ=', join(dir, 'k'))).toThrow(/32 bytes/);
    writeFileSync(join(dir, 'bad'), 'nope');
    expect(() => loadOrCreateSecretKey(undefined, join(dir, 'bad'))).toThrow(/32 bytes/);
  });
});
