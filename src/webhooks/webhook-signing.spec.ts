import { Webhook } from 'standardwebhooks';
import { blockedAddress } from './egress';
import { newWebhookSecret, retryDelayMs, secretProblem, signedHeaders, typeMatches } from './webhook-signing';

describe('Standard Webhooks signing', () => {
  it('produces headers the standardwebhooks library verifies', () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ id: 'e1', type: 'zone_enter', payload: { a: 1 } });
    const ts = Math.floor(Date.now() / 1000);
    const headers = signedHeaders(secret, 'msg_1', ts, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('a changed body or another secret fails verification', () => {
    const secret = newWebhookSecret();
    const headers = signedHeaders(secret, 'msg_1', Math.floor(Date.now() / 1000), '{"a":1}');
    expect(() => new Webhook(secret).verify('{"a":2}', headers)).toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify('{"a":1}', headers)).toThrow();
  });

  it('accepts only whsec_ secrets with 24–64 bytes of key', () => {
    expect(secretProblem(newWebhookSecret())).toBeNull();
    expect(secretProblem('hunter2')).toMatch(/whsec_/);
    expect(secretProblem('whsec_not base64!')).toMatch(/base64/);
    expect(secretProblem(`whsec_${Buffer.alloc(8).toString('base64')}`)).toMatch(/24 to 64/);
  });
});

describe('retryDelayMs', () => {
  it('follows the schedule within ±20 % and ends after the last step', () => {
    const schedule = [5, 30, 120];
    expect(retryDelayMs(schedule, 1, () => 0)).toBe(4000);
    expect(retryDelayMs(schedule, 1, () => 1)).toBe(6000);
    expect(retryDelayMs(schedule, 2, () => 0.5)).toBe(30_000);
    expect(retryDelayMs(schedule, 3, () => 0.5)).toBe(120_000);
    expect(retryDelayMs(schedule, 4)).toBeNull();
  });
});

describe('typeMatches', () => {
  it('matches exact types, prefixes and *', () => {
    expect(typeMatches(['*'], 'anything')).toBe(true);
    expect(typeMatches(['zone_*'], 'zone_enter')).toBe(true);
    expect(typeMatches(['zone_*'], 'camera_offline')).toBe(false);
    expect(typeMatches(['camera_offline'], 'camera_offline')).toBe(true);
    expect(typeMatches(['camera_offline'], 'camera_offline_x')).toBe(false);
    expect(typeMatches([], 'x')).toBe(false);
  });
});

describe('blockedAddress', () => {
  it('refuses link-local and metadata addresses, allows loopback and LAN', () => {
    expect(blockedAddress('169.254.169.254')).toMatch(/link-local/);
    expect(blockedAddress('::ffff:169.254.169.254')).toMatch(/link-local/);
    expect(blockedAddress('fe80::1')).toMatch(/link-local/);
    expect(blockedAddress('fd00:ec2::254')).toMatch(/metadata/);
    expect(blockedAddress('100.100.100.200')).toMatch(/metadata/);
    expect(blockedAddress('0.0.0.0')).toMatch(/unspecified/);
    expect(blockedAddress('127.0.0.1')).toBeNull();
    expect(blockedAddress('::1')).toBeNull();
    expect(blockedAddress('192.168.1.20')).toBeNull();
    expect(blockedAddress('10.0.0.5')).toBeNull();
  });
});
