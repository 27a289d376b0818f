import { connect, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export type ProxyMode = 'forward' | 'stall' | 'garbage';

/**
 * A TCP proxy in front of the RTSP test camera that can misbehave like a broken camera:
 * `forward` (pipe both ways), `stall` (the streams in progress freeze — connected, silent — and
 * new connections are held without a byte), `garbage` (every connection answered with random
 * bytes). Leaving `stall` or `garbage` drops their connections, as a camera that reboots would.
 */
export class FaultProxy {
  private server!: Server;
  private readonly conns = new Set<Socket>();
  private mode: ProxyMode = 'forward';
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  set(mode: ProxyMode): void {
    const previous = this.mode;
    this.mode = mode;
    if (mode === 'stall' && previous === 'forward') {
      // Freeze mid-stream: nothing flows any more, but no socket closes.
      for (const c of this.conns) {
        c.unpipe();
        c.pause();
      }
      return;
    }
    for (const c of this.conns) c.destroy();
    this.conns.clear();
  }

  async stop(): Promise<void> {
    this.set('forward');
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private accept(client: Socket): void {
    this.conns.add(client);
    client.on('close', () => this.conns.delete(client));
    client.on('error', () => undefined);
    if (this.mode === 'stall') {
      client.pause(); // hold it: no bytes either way
      return;
    }
    if (this.mode === 'garbage') {
      const spew = setInterval(() => !client.destroyed && client.write(randomBytes(512)), 50);
      client.on('close', () => clearInterval(spew));
      client.resume();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    this.conns.add(upstream);
    upstream.on('close', () => {
      this.conns.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
