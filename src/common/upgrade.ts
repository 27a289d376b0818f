import type { Logger } from '@nestjs/common';
import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** A path family that accepts protocol upgrades (WebSocket); everything else is refused. */
export interface UpgradeRoute {
  matchesUpgrade(url: string): boolean;
  /**
   * Answer the socket (`refuseUpgrade`) or hand it over. The router may have answered already when
   * this settles late (the authorisation deadline): check `upgradeAnswered(socket)` before handing over.
   */
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void>;
}

/** Closed sockets are destroyed at the latest this long after their answer was written. */
const LINGER_MS = 2000;

export function upgradeAnswered(socket: Socket): boolean {
  return socket.destroyed || socket.writableEnded;
}

/** An HTTP answer in the error envelope on a socket that asked for an upgrade, then the socket is closed. */
export function refuseUpgrade(socket: Socket, status: number, code: string, message: string): void {
  if (upgradeAnswered(socket)) return;
  const body = JSON.stringify({ error: message, code });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
    () => socket.destroy(),
  );
  // The server's sockets allow half-open connections: a client that never closes its side (or
  // never reads) must not keep the descriptor.
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * The server's one `upgrade` listener. Node hands an upgrade request's socket to its listeners and
 * forgets it (no request or header timeout applies any more), so every such socket is answered
 * here: routed to the route that claims its path, refused with 400 otherwise, and refused with 503
 * when its route has not handed it over within `authTimeoutMs`.
 */
export function installUpgradeRouter(
  server: Server,
  routes: readonly UpgradeRoute[],
  opts: { authTimeoutMs: number; logger: Pick<Logger, 'warn'> },
): () => void {
  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    // Node removed its own listeners from this socket: a reset would otherwise be uncaught.
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '';
    const route = routes.find((r) => r.matchesUpgrade(url));
    if (!route) {
      refuseUpgrade(socket, 400, 'UPGRADE_REFUSED', 'this path does not accept a protocol upgrade');
      return;
    }
    const timer = setTimeout(() => {
      opts.logger.warn({ path: url.split('?')[0] }, 'upgrade not authorised in time; closed');
      refuseUpgrade(socket, 503, 'UPGRADE_TIMEOUT', 'the upgrade could not be authorised in time');
    }, opts.authTimeoutMs);
    timer.unref();
    void route
      .handleUpgrade(req, socket, head)
      .catch((err: unknown) => {
        opts.logger.warn({ err }, 'websocket upgrade failed');
        refuseUpgrade(socket, 500, 'INTERNAL', 'internal error');
      })
      .finally(() => clearTimeout(timer));
  };
  server.on('upgrade', onUpgrade);
  return () => server.off('upgrade', onUpgrade);
}
