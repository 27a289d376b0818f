import { mediamtxClientOrigins } from './client-origins';

describe('mediamtxClientOrigins', () => {
  it.each<[string, string[], string | undefined, string[]]>([
    [
      'loopback bases follow the request host',
      ['http://127.0.0.1:8889', 'http://127.0.0.1:8888/'],
      'nvr.example:8080',
      ['http://nvr.example:8889', 'http://nvr.example:8888'],
    ],
    [
      'a named base stays as configured',
      ['https://media.example/rtc/'],
      'nvr.example:8080',
      ['https://media.example'],
    ],
    ['no host: the base as is', ['http://localhost:8889'], undefined, ['http://localhost:8889']],
    ['a forged host does not get in', ['http://127.0.0.1:8889'], 'evil host;x', ['http://127.0.0.1:8889']],
    ['duplicates once', ['http://10.0.0.2:8889/a', 'http://10.0.0.2:8889/b'], 'x', ['http://10.0.0.2:8889']],
    ['an IPv6 request host', ['http://127.0.0.1:8889'], '[fd00::1]:8080', ['http://[fd00::1]:8889']],
    ['not a URL: left out', ['nope'], 'x', []],
  ])('%s', (_name, bases, host, want) => {
    expect(mediamtxClientOrigins(bases, host)).toEqual(want);
  });
});
