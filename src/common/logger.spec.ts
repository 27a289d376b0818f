import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { accessLog, createRootLogger, PinoNestLogger } from './logger';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, sink };
}

describe('createRootLogger', () => {
  it('redacts user:pass@ in messages, fields and errors, and hides secret-looking keys', () => {
    const { lines, sink } = capture();
    const log = createRootLogger('info', sink);
    log.info(
      { url: 'rtsp://admin:hunter2@cam/x', nested: { password: 'hunter2', token: 't' } },
      'probe rtsp://a:b@h/y',
    );
    log.error({ err: new Error('cannot open rtsp://admin:hunter2@cam/x') }, 'failed');
    const text = JSON.stringify(lines);
    expect(text).not.toContain('hunter2');
    expect(lines[0]).toMatchObject({
      msg: 'probe rtsp://***@h/y',
      url: 'rtsp://***@cam/x',
      nested: { password: '[redacted]', token: '[redacted]' },
      level: 30,
    });
    expect(lines[1].err).toMatchObject({ message: 'cannot open rtsp://***@cam/x' });
  });

  it('serves as Nest’s logger with the context', () => {
    const { lines, sink } = capture();
    new PinoNestLogger(createRootLogger('debug', sink)).warn('recorder rtsp://u:p@h/ exited', 'Recorder');
    expect(lines[0]).toMatchObject({ level: 40, context: 'Recorder', msg: 'recorder rtsp://***@h/ exited' });
  });

  it('keeps the text of a Nest Logger call with fields first (fields, text, context)', async () => {
    const { lines, sink } = capture();
    const { Logger } = await import('@nestjs/common');
    Logger.overrideLogger(new PinoNestLogger(createRootLogger('debug', sink)));
    try {
      new Logger('Playback').warn(
        { session: 'pb_1', url: 'rtsp://u:p@h/' },
        'playback session expired (idle)',
      );
      new Logger('Playback').warn({ session: 'pb_2' });
    } finally {
      Logger.overrideLogger(false);
    }
    expect(lines[0]).toMatchObject({
      level: 40,
      context: 'Playback',
      session: 'pb_1',
      url: 'rtsp://***@h/',
      msg: 'playback session expired (idle)',
    });
    expect(lines[1]).toMatchObject({ level: 40, context: 'Playback', session: 'pb_2' });
  });
});

describe('accessLog', () => {
  let server: Server;
  const { lines, sink } = capture();

  beforeAll(async () => {
    const log = accessLog(createRootLogger('info', sink));
    server = createServer((req, res) => {
      req.headers['x-request-id'] = req.url?.startsWith('/boom') ? 'req-5xx' : 'req-1';
      log(req, res);
      if (req.url?.startsWith('/boom')) res.statusCode = 503;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const fetchPath = (path: string) =>
    new Promise<void>((resolve, reject) => {
      const { port } = server.address() as AddressInfo;
      get({ host: '127.0.0.1', port, path }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });

  it('never writes viewer tokens, keys, tickets or signatures of a request target', async () => {
    await fetchPath('/live/cam_x/index.m3u8?token=v1.SECRET-TOKEN.sig');
    await fetchPath(
      '/api/v1/frames/x?ticket=SECRET-TICKET&key=SECRET-KEY&api_key=SECRET-API&sig=SECRET-SIG&n=2',
    );
    await new Promise((r) => setTimeout(r, 50));
    const urls = lines.map((l) => (l.req as { url: string }).url);
    expect(urls).toEqual([
      '/live/cam_x/index.m3u8?token=***',
      '/api/v1/frames/x?ticket=***&key=***&api_key=***&sig=***&n=2',
    ]);
    expect(lines[0]).toMatchObject({ req: { id: 'req-1', method: 'GET' }, res: { statusCode: 200 } });
    expect(JSON.stringify(lines)).not.toContain('SECRET');
  });

  it('a 5xx is logged at error level with its error; /healthz is not logged', async () => {
    lines.length = 0;
    await fetchPath('/healthz');
    await fetchPath('/boom?token=SECRET-TOKEN');
    await new Promise((r) => setTimeout(r, 50));
    expect(lines).toHaveLength(1);
    expect(Object.keys(lines[0])).toEqual([
      'level',
      'time',
      'service',
      'req',
      'res',
      'err',
      'responseTime',
      'msg',
    ]);
    expect(lines[0]).toMatchObject({
      level: 50,
      service: 'heldar',
      req: { id: 'req-5xx', method: 'GET', url: '/boom?token=***' },
      res: { statusCode: 503 },
      err: { message: 'failed with status code 503' },
      responseTime: expect.any(Number),
      msg: 'request errored',
    });
    expect(JSON.stringify(lines)).not.toContain('SECRET');
  });
});
