import { maskUrl } from '../common/redaction';
import { RedactedTail, redactLine } from './redacted-tail';

describe('redactLine', () => {
  it.each([
    'Error opening rtsp://a:b@h1/x and http://c:d@h2/y',
    "[rtsp @ 0x55] method DESCRIBE failed: 401 Unauthorized 'rtsp://admin:p@ss@10.0.0.5:554/s'",
    'no url here user:pass@host',
    '  leading and\ttabs rtsp://u:p@cam/x  ',
  ])('matches maskUrl on %s', (line) => {
    expect(redactLine(line)).toBe(maskUrl(line));
  });

  it.each([
    [
      '[rtsp @ 0x55] DESCRIBE rtsp://cam/live/hunter2 failed',
      ['hunter2'],
      '[rtsp @ 0x55] DESCRIBE rtsp://cam/live/*** failed',
    ],
    ['no URL, but the secret hunter2', ['hunter2'], 'no URL, but the secret ***'],
    [
      'rtsp://cam/live?password=p: Connection refused',
      [],
      'rtsp://cam/live?password=***: Connection refused',
    ],
    ['auth failed, password=p', [], 'auth failed, password=***'],
  ])('masks %s with secrets %j', (line, secrets, expected) => {
    expect(redactLine(line, secrets)).toBe(expected);
  });

  it('masks long lines whole', () => {
    expect(redactLine('x'.repeat(200000))).toHaveLength(200000);
    expect(redactLine(`rtsp://u:p@h/${'a'.repeat(200000)} tail`)).toBe(
      `rtsp://***@h/${'a'.repeat(200000)} tail`,
    );
  });
});

describe('RedactedTail', () => {
  it('splits on \\n, \\r\\n and \\r, redacts, and keeps the last maxBytes', () => {
    const seen: string[] = [];
    const tail = new RedactedTail(20, (line) => seen.push(line));
    tail.push(Buffer.from('one rtsp://u:p@h/x\r\ntwo\rthree\npar'));
    tail.push('tial');
    expect(seen).toEqual(['one rtsp://***@h/x', 'two', 'three']);
    tail.flush();
    expect(seen[3]).toBe('partial');
    expect(tail.toString()).toBe('/x\ntwo\nthree\npartial'); // last 20 bytes
    expect(tail.truncated).toBe(true);
  });

  it('masks its secrets in every line it keeps and hands out', () => {
    const seen: string[] = [];
    const tail = new RedactedTail(1024, (line) => seen.push(line), ['s3cret', 's3cret%21']);
    tail.push('open /live/s3cret%21\nagain /live/s3cret\n');
    expect(seen).toEqual(['open /live/***', 'again /live/***']);
    expect(tail.toString()).toBe('open /live/***\nagain /live/***');
  });

  it('never splits a multi-byte character, across chunks or at the cut', () => {
    const tail = new RedactedTail(5);
    const bytes = Buffer.from('ééé\n');
    tail.push(bytes.subarray(0, 3));
    tail.push(bytes.subarray(3));
    expect(tail.toString()).toBe('éé');
  });
});
