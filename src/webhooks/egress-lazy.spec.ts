import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GuardedClient } from './egress';

const mockUndiciLoaded = jest.fn();
jest.mock('undici', () => {
  mockUndiciLoaded();
  return jest.requireActual<typeof import('undici')>('undici');
});

describe('GuardedClient and undici', () => {
  it('loads undici with the first delivery, not when the kernel builds the client at boot', async () => {
    const server = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new GuardedClient({ connections: 2, connectTimeoutMs: 3000 });
    try {
      expect(mockUndiciLoaded).not.toHaveBeenCalled();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      expect(await client.post(url, {}, '{}', 3000)).toMatchObject({ ok: true, statusCode: 204 });
      expect(await client.post(url, {}, '{}', 3000)).toMatchObject({ ok: true, statusCode: 204 });
      expect(mockUndiciLoaded).toHaveBeenCalledTimes(1);
    } finally {
      await client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a client that never sent closes without loading it', async () => {
    await new GuardedClient({ connections: 2, connectTimeoutMs: 3000 }).destroy();
    expect(mockUndiciLoaded).toHaveBeenCalledTimes(1); // the previous test's load, no other
  });
});
