import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

/** Shared by the benchmarks: a free loopback port, a bare HTTP server, a process's CPU from /proc,
 * the RTSP publisher. */

const CLK_TCK = 100;

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** CPU seconds (user + system) a process has used, and those of its reaped children, from /proc. */
/** A bare node:http server on loopback answering every request with `body()` (read per request,
 * so a bench can swap it): the raw floor a kernel route's latency is compared with. */
export async function bareHttpServer(
  contentType: string,
  body: () => string | Buffer,
): Promise<{ port: number; server: Server }> {
  const server = createHttpServer((_req, res) => {
    const b = body();
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(b) });
    res.end(b);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, server };
}

export function procCpu(pid: number | 'self'): { own: number; reapedChildren: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      own: (Number(f[11]) + Number(f[12])) / CLK_TCK,
      reapedChildren: (Number(f[13]) + Number(f[14])) / CLK_TCK,
    };
  } catch {
    return { own: 0, reapedChildren: 0 };
  }
}

/** The RTSP test publisher (GStreamer, one shared encoder: 640×360 at 10 fps unless `size` says
 * otherwise) on `port`, once it is ready. */
export async function startRtspPublisher(
  port: number,
  size: { width: number; height: number; fps: number } = { width: 640, height: 360, fps: 10 },
): Promise<ChildProcess> {
  const root = resolve(__dirname, '..', '..');
  const publisher = spawn(
    '/usr/bin/python3',
    [
      join(root, 'test/fixtures/rtsp_camera.py'),
      '--port',
      String(port),
      '--width',
      String(size.width),
      '--height',
      String(size.height),
      '--fps',
      String(size.fps),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((res, rej) => {
    publisher.stdout.on('data', (d: Buffer) => d.toString().includes('READY') && res());
    publisher.once('exit', (code) => rej(new Error(`RTSP publisher exited (${code})`)));
  });
  return publisher;
}
