import { randomBytes } from 'node:crypto';
import { signLiveToken, tokenFromQuery, verifyLiveToken } from './live-token';

describe('live tokens', () => {
  const key = randomBytes(32);
  const claims = { path: 'cam_lobby', kind: 'api_key' as const, subject: 'key_01', exp: 2_000 };

  it('round-trips the subject for its path until it expires', () => {
    const token = signLiveToken(key, claims);
    expect(token).toMatch(/^v1\.2000\.k\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyLiveToken(key, token, 'cam_lobby', 1_999)).toEqual(claims);
    expect(verifyLiveToken(key, token, 'cam_lobby', 2_000)).toBeNull(); // expired at exp
  });

  it('refuses another path, another key, a tampered subject, expiry or kind, and garbage', () => {
    const token = signLiveToken(key, claims);
    expect(verifyLiveToken(key, token, 'cam_other', 1_000)).toBeNull();
    expect(verifyLiveToken(randomBytes(32), token, 'cam_lobby', 1_000)).toBeNull();
    const parts = token.split('.');
    const forged = (i: number, v: string) => parts.map((p, j) => (j === i ? v : p)).join('.');
    expect(verifyLiveToken(key, forged(1, '9999999999'), 'cam_lobby', 1_000)).toBeNull();
    expect(verifyLiveToken(key, forged(2, 'u'), 'cam_lobby', 1_000)).toBeNull();
    expect(
      verifyLiveToken(key, forged(3, Buffer.from('key_02').toString('base64url')), 'cam_lobby', 1_000),
    ).toBeNull();
    for (const bad of [
      '',
      'v1',
      'v2.1.k.a.b',
      `${token}.x`,
      'x'.repeat(600),
      forged(2, 'z'),
      forged(1, '-5'),
    ]) {
      expect(verifyLiveToken(key, bad, 'cam_lobby', 1_000)).toBeNull();
    }
    expect(verifyLiveToken(key, undefined, 'cam_lobby', 1_000)).toBeNull();
    // A non-canonical spelling of the same MAC (the last base64url character's spare low bits) is refused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(token.at(-1)!) ^ 1];
    const macText = token.split('.')[4];
    expect(Buffer.from(macText.slice(0, -1) + twin, 'base64url')).toEqual(Buffer.from(macText, 'base64url'));
    expect(verifyLiveToken(key, token.slice(0, -1) + twin, 'cam_lobby', 1_000)).toBeNull();
  });

  it('reads the token from a MediaMTX query string', () => {
    expect(tokenFromQuery('token=abc&x=1')).toBe('abc');
    expect(tokenFromQuery('?x=1&token=v1.2.k.a.b')).toBe('v1.2.k.a.b');
    expect(tokenFromQuery('x=1')).toBeNull();
    expect(tokenFromQuery('')).toBeNull();
    expect(tokenFromQuery(undefined)).toBeNull();
  });
});
