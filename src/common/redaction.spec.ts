import { isCredentialKey, maskRequestUrl, maskUrl, maskUrlAndQuery, scrubSecrets } from './redaction';

describe('maskUrl', () => {
  it.each([
    // userinfo
    [
      'rtsp://admin:secret@10.0.0.5:554/Streaming/Channels/101',
      'rtsp://***@10.0.0.5:554/Streaming/Channels/101',
    ],
    ['rtsp://admin@10.0.0.5/x', 'rtsp://***@10.0.0.5/x'],
    ['rtsp://u:p%40ss@cam/x', 'rtsp://***@cam/x'],
    ['rtsp://u:p@ss@cam/x', 'rtsp://***@cam/x'],
    ['rtsp://u:p?ss@cam/x', 'rtsp://***@cam/x'],
    ['rtsp://10.0.0.5/x', 'rtsp://10.0.0.5/x'],
    ['RTSPS://A:B@H/x', 'RTSPS://***@H/x'],
    ['no url here user:pass@host', 'no url here user:pass@host'],
    // query values, every one of them
    ['http://cam/snap.cgi?user=admin&password=hunter2', 'http://cam/snap.cgi?user=***&password=***'],
    ['http://cam/snap.cgi?USER=admin&PWD=hunter2&', 'http://cam/snap.cgi?USER=***&PWD=***&'],
    ['rtsp://cam/live?channel=1&subtype=0', 'rtsp://cam/live?channel=***&subtype=***'],
    ['rtsp://cam/live?tcp', 'rtsp://cam/live?***'],
    ['rtsp://cam/live?pwd=a%26b%3Dc', 'rtsp://cam/live?pwd=***'],
    ['rtsp://cam/live?password=a#b&c', 'rtsp://cam/live?password=***&***'],
    ['rtsp://cam/live?password=', 'rtsp://cam/live?password='],
    ['rtsp://u:p@cam/live?pass=x', 'rtsp://***@cam/live?pass=***'],
    // several URLs on one line, URLs glued together
    [
      'Error opening rtsp://a:b@h1/x and http://c:d@h2/y?token=t',
      'Error opening rtsp://***@h1/x and http://***@h2/y?token=***',
    ],
    ['rtsp://a/x,rtsp://u:p@h/y?k=v', 'rtsp://a/x,rtsp://***@h/y?k=***'],
    ["from 'rtsp://cam/live?password=p':", "from 'rtsp://cam/live?password=***':"],
    // ffmpeg's and ffprobe's real error lines
    [
      '[rtsp @ 0x55d5c8a0] method DESCRIBE failed: 401 Unauthorized',
      '[rtsp @ 0x55d5c8a0] method DESCRIBE failed: 401 Unauthorized',
    ],
    [
      'rtsp://host/live?user=u&password=p: Connection refused',
      'rtsp://host/live?user=***&password=***: Connection refused',
    ],
    [
      'rtsp://admin:Sup3r@127.0.0.1:1/live?user=admin&password=Sup3r: Connection refused',
      'rtsp://***@127.0.0.1:1/live?user=***&password=***: Connection refused',
    ],
    [
      '[tcp @ 0x5581] Connection to tcp://127.0.0.1:1?timeout=5000000 failed: Connection refused',
      '[tcp @ 0x5581] Connection to tcp://127.0.0.1:1?timeout=*** failed: Connection refused',
    ],
    [
      'Error opening input file http://cam/video.mjpg?user=a&pwd=b.',
      'Error opening input file http://cam/video.mjpg?user=***&pwd=***',
    ],
    // credential-looking pairs outside URLs
    ['auth failed: password=hunter2 user=admin', 'auth failed: password=*** user=admin'],
    ['password=p: refused', 'password=***: refused'],
    [
      'Passwd=x PWD=y pw=z api_key=k X-Api-Key=k2 sig=s',
      'Passwd=*** PWD=*** pw=*** api_key=*** X-Api-Key=*** sig=***',
    ],
    ['token=abc&secret=def;', 'token=***&secret=***'],
    ['"access_token=abc"', '"access_token=***"'],
    [
      'frame=  100 fps=25 q=-1.0 size=1024kB bitrate=2000kbits/s',
      'frame=  100 fps=25 q=-1.0 size=1024kB bitrate=2000kbits/s',
    ],
    ['channel=1 subtype=0', 'channel=1 subtype=0'],
    ['password=', 'password='],
    // template placeholders are shown as they are
    [
      'rtsp://{user}:{pass}@{host}:{port}/live/{user}/{pass}?user={user}&password={pass}',
      'rtsp://{user}:{pass}@{host}:{port}/live/{user}/{pass}?user={user}&password={pass}',
    ],
    ['rtsp://{user}:literal@{host}/x?password=literal', 'rtsp://***@{host}/x?password=***'],
  ])('%s', (input, expected) => {
    expect(maskUrl(input)).toBe(expected);
  });

  it.each([
    // password in the path: only the named secret can find it
    [
      'rtsp://cam:554/live/admin/Sup3r-s3cret?user=admin&password=Sup3r-s3cret',
      ['Sup3r-s3cret'],
      'rtsp://cam:554/live/admin/***?user=***&password=***',
    ],
    // percent-encoded and raw forms, and the user:pass pair before the password
    [
      'rtsp://admin:p%40ss%20w@cam/live/p%40ss%20w and "p@ss w" and admin:p@ss w',
      ['p@ss w', 'p%40ss%20w', 'admin:p@ss w'],
      'rtsp://***@cam/live/*** and "***" and ***',
    ],
    // a secret in a line with no URL at all
    [
      '[rtsp @ 0x1] DESCRIBE for /live/hunter2 failed',
      ['hunter2'],
      '[rtsp @ 0x1] DESCRIBE for /live/*** failed',
    ],
    // empty secrets are ignored
    ['nothing to hide', ['', ''], 'nothing to hide'],
  ])('%s with secrets %j', (input, secrets, expected) => {
    expect(maskUrl(input, { secrets })).toBe(expected);
  });

  it('masks only credential-looking query values of a URL the kernel built', () => {
    expect(
      maskUrl('rtsp://***@cam/cam/realmonitor?channel=1&subtype=0&password=pw&user=admin', {
        query: 'credentials',
      }),
    ).toBe('rtsp://***@cam/cam/realmonitor?channel=1&subtype=0&password=***&user=admin');
  });

  it('masks the query string too when asked', () => {
    expect(maskUrlAndQuery('https://u:p@hook.example/x?token=abc')).toBe('https://***@hook.example/x?***');
    expect(maskUrlAndQuery('https://hook.example/x')).toBe('https://hook.example/x');
  });
});

describe('maskRequestUrl', () => {
  it.each([
    ['/live/cam_x/index.m3u8?token=abc.def', '/live/cam_x/index.m3u8?token=***'],
    [
      '/api/v1/events?key=k&api_key=a&ticket=t&sig=s&limit=5',
      '/api/v1/events?key=***&api_key=***&ticket=***&sig=***&limit=5',
    ],
    ['/api/v1/timeline?from=2025-01-01T00:00:00Z&to=x', '/api/v1/timeline?from=2025-01-01T00:00:00Z&to=x'],
    ['/healthz', '/healthz'],
  ])('%s', (input, expected) => {
    expect(maskRequestUrl(input)).toBe(expected);
  });
});

describe('isCredentialKey and scrubSecrets', () => {
  it.each([
    ['password', true],
    ['user_pass', true],
    ['authToken', true],
    ['x-api-key', true],
    ['pw', true],
    ['user', false],
    ['channel', false],
    ['subtype', false],
  ])('%s → %s', (key, expected) => {
    expect(isCredentialKey(key)).toBe(expected);
  });

  it('replaces the longest secret first', () => {
    expect(scrubSecrets('admin:pw and pw', ['pw', 'admin:pw'])).toBe('*** and ***');
  });
});

describe('maskUrl on hostile input', () => {
  // Used to backtrack quadratically (13 s for 128 KiB); the suite's timeout catches a regression.
  it('handles long lines without URLs', () => {
    expect(maskUrl('x'.repeat(256 * 1024))).toHaveLength(256 * 1024);
    expect(maskUrl('rtsp://' + 'x'.repeat(256 * 1024))).toHaveLength(7 + 256 * 1024);
    expect(maskUrl('a'.repeat(1000) + ' rtsp://u:p@h/x')).toBe('a'.repeat(1000) + ' rtsp://***@h/x');
  });

  it('stays fast on long lines of pairs, queries and glued URLs', () => {
    const started = Date.now();
    maskUrl('a=b'.repeat(100_000));
    maskUrl('password='.repeat(50_000));
    maskUrl('x'.repeat(200_000) + 'password=p');
    maskUrl('rtsp://h/x?' + 'a=b&'.repeat(50_000));
    maskUrl('rtsp://'.repeat(50_000));
    maskUrl('a-'.repeat(100_000) + '=');
    maskUrl('s'.repeat(100_000), { secrets: ['ss', 'sss', 's'] });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(maskUrl('x'.repeat(200) + 'password=p')).toBe('x'.repeat(200) + 'password=***');
  });
});
