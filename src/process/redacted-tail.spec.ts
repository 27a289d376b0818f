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

  it('never splits a multi-byte character, across chunks or at the cut', () => {
    const tail = new RedactedTail(5);
    const bytes = Buffer.from('ééé\n');
    tail.push(bytes.subarray(0, 3));
    tail.push(bytes.subarray(3));
    expect(tail.toString()).toBe('éé');
  });
});
