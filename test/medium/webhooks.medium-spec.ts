import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { SYSTEM_PRINCIPAL } from '../../src/auth/principal';
import { EventsService } from '../../src/events/events.service';
import type { CreateWebhookDto } from '../../src/webhooks/dto/webhook.dto';
import { WebhooksService } from '../../src/webhooks/webhooks.service';
import { startMediumKernel, type MediumKernel } from '../support/medium-kernel';
import { waitFor } from '../support/test-app';
import { ENGINE } from '../support/test-db';

interface Got {
  headers: IncomingHttpHeaders;
  body: string;
  json: { seq: number; type: string; severity: string; payload: Record<string, unknown> };
}

/** A loopback receiver of its own per test; `answer` picks each status (default 200). */
async function receiver(answer: (g: Got) => number = () => 200) {
  const got: Got[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const g: Got = { headers: req.headers, body, json: JSON.parse(body) as Got['json'] };
      got.push(g);
      res.writeHead(rx.answer(g));
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const rx = {
    got,
    answer,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    ofType: (type: string) => got.filter((g) => g.json.type === type),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return rx;
}

describe(`webhooks service: subscriptions, deliveries, the ledger (${ENGINE})`, () => {
  let k: MediumKernel;
  let hooks: WebhooksService;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    k = await startMediumKernel({
      HELDAR_WEBHOOK_RETRY_SCHEDULE_S: '0.2,0.2,0.2',
      HELDAR_WEBHOOK_FAILING_AFTER: '3',
      HELDAR_WEBHOOK_TIMEOUT_MS: '2000',
    });
    hooks = k.get(WebhooksService);
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await k?.close();
  });

  /** Event types of this test only: no other test's events match its subscription. */
  const family = () => `mw_${randomBytes(3).toString('hex')}`;
  const emit = (type: string, severity: 'info' | 'warning' | 'critical' = 'info', payload = {}) =>
    k.get(EventsService).emitExternal({ type, severity, payload });
  const subscribe = (dto: Partial<CreateWebhookDto> & { url: string }) => hooks.create(SYSTEM_PRINCIPAL, dto);
  const settled = (id: string, n: number) =>
    waitFor(
      async () => {
        const list = await hooks.deliveries(id, undefined, 100);
        return (
          list.length === n && list.every((d) => d.status === 'delivered' || d.status === 'dead') && list
        );
      },
      10_000,
      `${n} settled deliveries`,
    );

  it('delivers matching events at or above the minimum severity, signed, each with a delivered ledger row', async () => {
    const rx = await receiver();
    closers.push(rx.close);
    const f = family();
    const hook = await subscribe({ url: rx.url, event_types: [`${f}_*`], min_severity: 'warning' });
    expect(hook.secret).toMatch(/^whsec_/);
    await emit(`${f}_quiet`, 'info');
    const loud = await emit(`${f}_loud`, 'critical', { n: 1 });
    await emit(`other_${f}`, 'critical');
    const [d] = await settled(hook.id, 1);
    expect(rx.got.map((g) => g.json.type)).toEqual([`${f}_loud`]);
    expect(
      new Webhook(hook.secret).verify(rx.got[0].body, rx.got[0].headers as Record<string, string>),
    ).toMatchObject({
      seq: loud.seq,
      type: `${f}_loud`,
      severity: 'critical',
      payload: { n: 1 },
    });
    expect(d).toMatchObject({
      webhook_id: hook.id,
      event_seq: loud.seq,
      event_type: `${f}_loud`,
      status: 'delivered',
      attempts: 1,
      last_status_code: 200,
    });
    expect(d.attempt_log).toEqual([expect.objectContaining({ attempt: 1, ok: true, status_code: 200 })]);
  });

  it('history before the subscription is not sent', async () => {
    const rx = await receiver();
    closers.push(rx.close);
    const f = family();
    await emit(`${f}_before`);
    const hook = await subscribe({ url: rx.url, event_types: [`${f}_*`] });
    const after = await emit(`${f}_after`);
    await settled(hook.id, 1);
    expect(rx.got.map((g) => g.json.seq)).toEqual([after.seq]);
  });

  it('retries with the same webhook-id until the receiver takes it; every attempt in the ledger', async () => {
    let failures = 2;
    const rx = await receiver(() => (failures-- > 0 ? 503 : 200));
    closers.push(rx.close);
    const f = family();
    const hook = await subscribe({ url: rx.url, event_types: [`${f}_*`] });
    await emit(`${f}_flaky`);
    const [d] = await settled(hook.id, 1);
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200 });
    expect(d.attempt_log.map((a) => [a.attempt, a.ok, a.status_code])).toEqual([
      [1, false, 503],
      [2, false, 503],
      [3, true, 200],
    ]);
    expect(new Set(rx.got.map((g) => g.headers['webhook-id']))).toEqual(new Set([d.id]));
  });

  it('a delivery past its last retry is dead and the webhook failing; a replay delivers it and clears that', async () => {
    const rx = await receiver(() => 500);
    closers.push(rx.close);
    const f = family();
    const hook = await subscribe({ url: rx.url, event_types: [`${f}_*`] });
    const doomed = await emit(`${f}_doomed`);
    const [dead] = await settled(hook.id, 1);
    expect(dead).toMatchObject({ status: 'dead', event_seq: doomed.seq, attempts: 4, last_status_code: 500 });
    await waitFor(async () => (await hooks.get(hook.id)).failing, 5_000, 'failing');
    rx.answer = () => 200;
    await hooks.replay(SYSTEM_PRINCIPAL, hook.id, dead.id);
    const [again] = await waitFor(
      async () => {
        const list = await hooks.deliveries(hook.id, 'delivered', 10);
        return list.length === 1 && list;
      },
      10_000,
      'the replayed delivery',
    );
    expect(again.id).toBe(dead.id);
    expect(rx.got.at(-1)?.headers['webhook-id']).toBe(dead.id);
    await waitFor(async () => !(await hooks.get(hook.id)).failing, 5_000, 'recovered');
    await expect(hooks.replay(SYSTEM_PRINCIPAL, hook.id, 'msg_nope')).rejects.toMatchObject({
      status: 404,
      code: 'DELIVERY_NOT_FOUND',
    });
  });

  it('a disabled subscription gets nothing; a deleted one is gone', async () => {
    const rx = await receiver();
    closers.push(rx.close);
    const f = family();
    const hook = await subscribe({ url: rx.url, event_types: [`${f}_*`], enabled: false });
    await emit(`${f}_while_off`);
    await hooks.update(SYSTEM_PRINCIPAL, hook.id, { enabled: true });
    const on = await emit(`${f}_while_on`);
    await settled(hook.id, 1);
    expect(rx.got.map((g) => g.json.seq)).toEqual([on.seq]);
    await hooks.delete(SYSTEM_PRINCIPAL, hook.id);
    await expect(hooks.get(hook.id)).rejects.toMatchObject({ status: 404, code: 'WEBHOOK_NOT_FOUND' });
  });

  it.each([
    ['a URL that is not http(s)', { url: 'ftp://127.0.0.1/x' }],
    ['a URL that does not parse', { url: 'not a url' }],
    ['a short secret', { url: 'http://127.0.0.1:9/x', secret: 'whsec_abc' }],
  ])('refuses %s with 400 VALIDATION_FAILED', async (_name, dto) => {
    await expect(subscribe(dto)).rejects.toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });
});
