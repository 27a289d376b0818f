import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GuardedClient } from './egress';

const mockUndiciLoaded = jest.fn();
jest.mock('undici', () => {
  mockUndiciLoaded();
  return jest.requireActual<typeof import('undici')>('undici');
});

/** Run `fn` with a `GuardedClient` built by `Client` and the URL of a loopback receiver answering 204. */
async function withReceiver(
  Client: typeof GuardedClient,
  fn: (client: GuardedClient, url: string) => Promise<void>,
): Promise<void> {
  const server = createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new Client({ connections: 2, connectTimeoutMs: 3000 });
  try {
    await fn(client, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
  } finally {
    await client.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('GuardedClient and undici', () => {
  it('loads undici with the first delivery, not when the kernel builds the client at boot', async () => {
    await withReceiver(GuardedClient, async (client, url) => {
      expect(mockUndiciLoaded).not.toHaveBeenCalled();
      expect(await client.post(url, {}, '{}', 3000)).toMatchObject({ ok: true, statusCode: 204 });
      expect(await client.post(url, {}, '{}', 3000)).toMatchObject({ ok: true, statusCode: 204 });
      expect(mockUndiciLoaded).toHaveBeenCalledTimes(1);
    });
  });

  it('a client that never sent closes without loading it', async () => {
    await new GuardedClient({ connections: 2, connectTimeoutMs: 3000 }).destroy();
    expect(mockUndiciLoaded).toHaveBeenCalledTimes(1); // the previous test's load, no other
  });

  it('warm() loads it before any delivery (a kernel with subscriptions), once; the first post then uses it', async () => {
    // A fresh module registry: undici not loaded yet in it.
    jest.resetModules();
    mockUndiciLoaded.mockClear();
    const { GuardedClient: Fresh } = await import('./egress');
    await withReceiver(Fresh, async (client, url) => {
      expect(mockUndiciLoaded).not.toHaveBeenCalled();
      client.warm();
      client.warm();
      for (let i = 0; i < 100 && mockUndiciLoaded.mock.calls.length === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(mockUndiciLoaded).toHaveBeenCalledTimes(1);
      expect(await client.post(url, {}, '{}', 3000)).toMatchObject({ ok: true, statusCode: 204 });
      expect(mockUndiciLoaded).toHaveBeenCalledTimes(1);
    });
  });
});
