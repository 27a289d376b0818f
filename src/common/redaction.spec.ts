import { maskUrl, maskUrlAndQuery } from './redaction';

describe('maskUrl', () => {
  it.each([
    [
      'rtsp://admin:secret@10.0.0.5:554/Streaming/Channels/101',
      'rtsp://***@10.0.0.5:554/Streaming/Channels/101',
    ],
    ['rtsp://admin@10.0.0.5/x', 'rtsp://***@10.0.0.5/x'],
    ['rtsp://u:p%40ss@cam/x', 'rtsp://***@cam/x'],
    ['rtsp://u:p@ss@cam/x', 'rtsp://***@cam/x'],
    ['rtsp://10.0.0.5/x', 'rtsp://10.0.0.5/x'],
    [
      'Error opening rtsp://a:b@h1/x and http://c:d@h2/y',
      'Error opening rtsp://***@h1/x and http://***@h2/y',
    ],
    ['no url here user:pass@host', 'no url here user:pass@host'],
    ['RTSPS://A:B@H/x', 'RTSPS://***@H/x'],
  ])('%s', (input, expected) => {
    expect(maskUrl(input)).toBe(expected);
  });

  it('masks the query string too when asked', () => {
    expect(maskUrlAndQuery('https://u:p@hook.example/x?token=abc')).toBe('https://***@hook.example/x?***');
    expect(maskUrlAndQuery('https://hook.example/x')).toBe('https://hook.example/x');
  });
});

describe('maskUrl on hostile input', () => {
  // Used to backtrack quadratically (13 s for 128 KiB); the suite's timeout catches a regression.
  it('handles long lines without URLs', () => {
    expect(maskUrl('x'.repeat(256 * 1024))).toHaveLength(256 * 1024);
    expect(maskUrl('rtsp://' + 'x'.repeat(256 * 1024))).toHaveLength(7 + 256 * 1024);
    expect(maskUrl('a'.repeat(1000) + ' rtsp://u:p@h/x')).toBe('a'.repeat(1000) + ' rtsp://***@h/x');
  });
});
