import { Writable } from 'node:stream';
import { createRootLogger, PinoNestLogger } from './logger';

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
});
