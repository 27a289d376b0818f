import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Test, type TestingModule } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { SYSTEM_PRINCIPAL } from '../../src/auth/principal';
import { Leadership } from '../../src/common/leadership';
import type { HeldarConfig } from '../../src/config/heldar-config';
import { EventsService } from '../../src/events/events.service';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.service';
import { WebhooksService } from '../../src/webhooks/webhooks.service';
import { waitFor } from '../support/test-app';
import { createTestStore, ENGINE, type TestStore } from '../support/test-db';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A kernel of the cluster on `store`, as node `nodeId`. */
async function node(store: TestStore, nodeId: string): Promise<TestingModule> {
  const config = Object.assign(
    Object.create(Object.getPrototypeOf(store.config) as object) as HeldarConfig,
    store.config,
    {
      nodeId,
    },
  );
  const mod = await Test.createTestingModule({ imports: [AppModule.register(config)] }).compile();
  await mod.init();
  return mod;
}

/**
 * Webhook dispatch is a cluster singleton: two kernels on one PostgreSQL, a subscription made and
 * events emitted on both, every event delivered once, by the leader only; when the leader stops the
 * other node takes the dispatch over. (SQLite is single-node: its one kernel dispatches, as every
 * webhook spec shows; a second kernel on the file is refused, see cluster.medium-spec.ts.)
 */
if (ENGINE === 'postgres')
  describe('webhook dispatch on the leader only (postgres)', () => {
    let store: TestStore;
    let a: TestingModule | null = null;
    let b: TestingModule | null = null;
    let server: Server;
    const got: number[] = [];

    beforeAll(async () => {
      store = await createTestStore({
        HELDAR_INDEXER_INTERVAL_S: '3600',
        HELDAR_RETENTION_INTERVAL_S: '86400',
      });
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          got.push((JSON.parse(body) as { seq: number }).seq);
          res.writeHead(200).end('ok');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      a = await node(store, 'node-a');
      b = await node(store, 'node-b');
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await store?.cleanup();
    });

    it('delivers each event once, from the leader; the follower takes over when the leader stops', async () => {
      expect([a!.get(Leadership).isLeader(), b!.get(Leadership).isLeader()]).toEqual([true, false]);
      const sentByB = jest.spyOn(b!.get(WebhookDispatcher), 'send');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      // Made on the follower: the leader's dispatcher reads the shared table.
      await b!.get(WebhooksService).create(SYSTEM_PRINCIPAL, { url, event_types: ['cw_*'] });
      const emitted: number[] = [];
      for (let i = 0; i < 5; i++)
        for (const m of [a!, b!])
          emitted.push((await m.get(EventsService).emitExternal({ type: 'cw_tick', payload: { i } })).seq);
      await waitFor(
        () => Promise.resolve(got.length >= emitted.length),
        15_000,
        'deliveries from the leader',
      );
      await sleep(1_500); // a second dispatcher would have sent its copies by now
      expect([...got].sort((x, y) => x - y)).toEqual([...emitted].sort((x, y) => x - y));
      expect(sentByB).not.toHaveBeenCalled();

      // The leader stops (releases the lease): node-b leads at its next renewal and dispatches.
      await a!.close();
      a = null;
      await waitFor(() => Promise.resolve(b!.get(Leadership).isLeader()), 10_000, 'node-b leading');
      const later = (await b!.get(EventsService).emitExternal({ type: 'cw_after', payload: {} })).seq;
      await waitFor(() => Promise.resolve(got.includes(later)), 15_000, 'delivery from the new leader');
      await sleep(1_000);
      expect(got.filter((s) => s === later)).toHaveLength(1);
      expect(got).toHaveLength(emitted.length + 1);
      expect(sentByB).toHaveBeenCalledTimes(1);
    }, 60_000);
  });
else
  describe('webhook dispatch on SQLite (single node)', () => {
    it('the one kernel is the leader: its dispatcher runs', () => {
      expect(new Leadership({ isSqlite: true } as HeldarConfig).isLeader()).toBe(true);
    });
  });
