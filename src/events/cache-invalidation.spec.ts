import { Logger } from '@nestjs/common';
import type { DatabaseService } from '../database/database.service';
import {
  CACHES_CHANNEL,
  CacheInvalidation,
  invalidationPayload,
  parseInvalidation,
} from './cache-invalidation';
import type { ChannelListener, EventRelay } from './event-relay';

describe('invalidationPayload', () => {
  it('carries the origin, the scope and the keys; parsed back as sent', () => {
    const p = invalidationPayload({
      origin: 'n1',
      scope: 'zones',
      keys: { camera: 'cam_1', zone: 'zone_2' },
    });
    expect(JSON.parse(p)).toEqual({ o: 'n1', s: 'zones', k: { camera: 'cam_1', zone: 'zone_2' } });
    expect(parseInvalidation(p)).toEqual({
      origin: 'n1',
      scope: 'zones',
      keys: { camera: 'cam_1', zone: 'zone_2' },
    });
  });

  it('names the whole scope when the keys would not fit in one notification (PostgreSQL: < 8000 bytes)', () => {
    const p = invalidationPayload({ origin: 'n1', scope: 'sites', keys: { site: 'x'.repeat(9000) } });
    expect(p.length).toBeLessThan(8000);
    expect(parseInvalidation(p)).toEqual({ origin: 'n1', scope: 'sites', keys: null });
  });
});

describe('parseInvalidation', () => {
  it.each([
    ['{"o":"a","s":"zones","k":{}}', { origin: 'a', scope: 'zones', keys: {} }],
    [
      '{"o":"a","s":"recording_schedules","k":{"camera":"c"}}',
      { origin: 'a', scope: 'recording_schedules', keys: { camera: 'c' } },
    ],
    ['{"o":"a","s":"sites","k":null}', { origin: 'a', scope: 'sites', keys: null }],
    ['', null],
    ['12', null],
    ['null', null],
    ['[]', null],
    ['not json', null],
    ['{"s":"zones","k":{}}', null],
    ['{"o":"","s":"zones","k":{}}', null],
    ['{"o":"a","k":{}}', null],
    ['{"o":"a","s":"Zones","k":{}}', null],
    ['{"o":"a","s":"zones; DROP","k":{}}', null],
    ['{"o":"a","s":"zones"}', null],
    ['{"o":"a","s":"zones","k":[]}', null],
    ['{"o":"a","s":"zones","k":{"camera":1}}', null],
    ['{"o":"a","s":"zones","k":"camera"}', null],
  ])('%p → %p', (payload, expected) => {
    expect(parseInvalidation(payload)).toEqual(expected);
  });
});

describe('CacheInvalidation', () => {
  /** A kernel's CacheInvalidation on fakes: the store (`sqlite`, `inTx`) and the relay's connection. */
  function make(opts: { sqlite?: boolean; inTx?: boolean; notifyFails?: boolean } = {}) {
    const sent: unknown[][] = [];
    const hooks: Array<() => void> = [];
    const db = {
      isSqlite: opts.sqlite ?? false,
      inTransaction: opts.inTx ?? false,
      afterCommit: (cb: () => void) => hooks.push(cb),
      run: jest.fn(
        (fn: (m: { query: (sql: string, p: unknown[]) => Promise<unknown> }) => Promise<unknown>) =>
          fn({
            query: (sql, p) => {
              if (opts.notifyFails) return Promise.reject(new Error('connection lost'));
              sent.push([sql, ...p]);
              return Promise.resolve([]);
            },
          }),
      ),
    };
    let listener: ChannelListener | undefined;
    const relay = { listen: (_: string, l: ChannelListener) => (listener = l) };
    const caches = new CacheInvalidation(db as unknown as DatabaseService, relay as unknown as EventRelay);
    const seen: Array<string | null> = [];
    caches.on('zones', (k) => void seen.push(k ? JSON.stringify(k) : null));
    return { caches, db, sent, hooks, seen, listener: () => listener! };
  }

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it("PostgreSQL: publish runs this node's handlers and notifies heldar_caches once", async () => {
    const k = make();
    await k.caches.publish('zones', { camera: 'c1' });
    expect(k.seen).toEqual(['{"camera":"c1"}']);
    expect(k.sent).toHaveLength(1);
    const [sql, channel, payload] = k.sent[0] as [string, string, string];
    expect([sql, channel]).toEqual(['SELECT pg_notify($1, $2)', CACHES_CHANNEL]);
    expect(parseInvalidation(payload)).toMatchObject({ scope: 'zones', keys: { camera: 'c1' } });
  });

  it("another node's notification runs the handlers; this node's own echo does not run them twice", async () => {
    const k = make();
    await k.caches.publish('zones', { camera: 'c1' });
    k.listener().notified((k.sent[0] as string[])[2]);
    k.listener().notified(invalidationPayload({ origin: 'other', scope: 'zones', keys: { camera: 'c2' } }));
    k.listener().notified(invalidationPayload({ origin: 'other', scope: 'sites', keys: { site: 's' } }));
    k.listener().notified('garbage');
    await new Promise((r) => setImmediate(r));
    expect(k.seen).toEqual(['{"camera":"c1"}', '{"camera":"c2"}']);
  });

  it('after a lost connection every handler is told that anything may have changed (null)', async () => {
    const k = make();
    k.listener().missed();
    await new Promise((r) => setImmediate(r));
    expect(k.seen).toEqual([null]);
  });

  it('inside a transaction: notified by it, handlers only after its commit', async () => {
    const k = make({ inTx: true });
    await k.caches.publish('zones', { camera: 'c1' });
    expect(k.sent).toHaveLength(1);
    expect(k.seen).toEqual([]);
    for (const h of k.hooks) h();
    await new Promise((r) => setImmediate(r));
    expect(k.seen).toEqual(['{"camera":"c1"}']);
  });

  it('SQLite: local handlers only, no query', async () => {
    const k = make({ sqlite: true });
    await k.caches.publish('zones', { camera: 'c1' });
    expect(k.seen).toEqual(['{"camera":"c1"}']);
    expect(k.db.run).not.toHaveBeenCalled();
  });

  it('a failing handler or notification never fails the publish (the change is committed) and is logged', async () => {
    const k = make({ notifyFails: true });
    k.caches.on('zones', () => Promise.reject(new Error('boom')), 'failing');
    await expect(k.caches.publish('zones', { camera: 'c1' })).resolves.toBeUndefined();
    expect(k.seen).toEqual(['{"camera":"c1"}']);
    const errors = jest.mocked(Logger.prototype.error).mock.calls.map((c) => c[1] as string);
    expect(errors.sort()).toEqual([
      'a cache invalidation handler failed',
      expect.stringContaining('could not tell the other nodes'),
    ]);
  });

  it('refuses a scope that is not a plain lower-case name', async () => {
    const k = make();
    expect(() => k.caches.on('Zones!', () => undefined)).toThrow(/not a plain lower-case name/);
    await expect(k.caches.publish("x'; --")).rejects.toThrow(/not a plain lower-case name/);
  });
});
