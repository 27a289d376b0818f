import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The events bench's webhook receiver, in its own process (forked by bench/events.bench.ts): it
 * answers 204 to every POST and records when each `{url}:{seq}` arrived, on the shared wall clock
 * (`performance.timeOrigin + performance.now()`, sub-millisecond, comparable across processes).
 * Protocol over IPC: it sends `{port}` once listening; `{expect: n}` clears the record and asks
 * for `{received}` once n deliveries have arrived; `{dump: true}` sends `{received}` at once.
 * POSTs to `/raw` (the bare client's figure) are answered but not recorded.
 */
const received = new Map<string, number>();
let expect = Infinity;

const send = (msg: unknown) => process.send?.(msg);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    if (req.url !== '/raw') {
      try {
        const { seq } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { seq: number };
        received.set(`${req.url}:${seq}`, at);
      } catch {
        /* not a delivery */
      }
      if (received.size >= expect) {
        expect = Infinity;
        send({ received: [...received] });
      }
    }
    res.writeHead(204).end();
  });
});

process.on('message', (msg: { expect?: number; dump?: boolean }) => {
  if (msg.expect !== undefined) {
    received.clear();
    expect = msg.expect;
  }
  if (msg.dump) send({ received: [...received] });
});
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
});

server.listen(0, '127.0.0.1', () => send({ port: (server.address() as AddressInfo).port }));
