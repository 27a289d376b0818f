import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GuardedClient } from './egress';

const mockUndiciLoaded = jest.fn();
jest.mock('undici', () => {
  mockUndiciLoaded();
  return jest.requireActual<typeof import('undici')>('undici');
});

describe('GuardedClient.warm', () => {
  it('loads undici before any delivery (a kernel with subscriptions), once; the first post then uses it', async () => {
    const server = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new GuardedClient({ connections: 2, connectTimeoutMs: 3000 });
    try {
      expect(mockUndiciLoaded).not.toHaveBeenCalled();
      client.warm();
      client.warm();
      for (let i = 0; i < 100 && mockUndiciLoaded.mock.calls.length === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(mockUndiciLoaded).toHaveBeenCalledTimes(1);
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      expect(await client.post(url, {}, '{}', 3000)).toMatchObject({ ok: true, statusCode: 204 });
      expect(mockUndiciLoaded).toHaveBeenCalledTimes(1);
    } finally {
      await client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
