import { crossOriginRefusal } from './origin-check';

type H = Parameters<typeof crossOriginRefusal>[0];
const HOST = 'heldar.example:8080';
const LIST = ['https://console.example', '*'];

describe('crossOriginRefusal', () => {
  it.each<[string, H]>([
    ['own origin, http', { host: HOST, origin: 'http://heldar.example:8080' }],
    [
      'own origin, https through a TLS-terminating proxy',
      { host: HOST, origin: 'https://heldar.example:8080' },
    ],
    ['own origin, default port elided', { host: 'heldar.example', origin: 'https://heldar.example:443' }],
    [
      'own origin, Host with the default port',
      { host: 'heldar.example:80', origin: 'http://heldar.example' },
    ],
    ['own origin, case differs', { host: 'Heldar.Example:8080', origin: 'http://heldar.example:8080' }],
    ['IPv6 host', { host: '[::1]:8080', origin: 'http://[::1]:8080' }],
    ['listed origin', { host: HOST, origin: 'https://console.example' }],
    ['listed origin, explicit default port', { host: HOST, origin: 'https://console.example:443' }],
    ['no Origin, no Referer, no fetch metadata (curl)', { host: HOST }],
    ['no Origin, same-origin Referer', { host: HOST, referer: 'http://heldar.example:8080/docs/?x=1' }],
    [
      'null Origin, but Sec-Fetch-Site same-origin (no-referrer page)',
      { host: HOST, origin: 'null', 'sec-fetch-site': 'same-origin' },
    ],
    ['no Origin, Sec-Fetch-Site same-origin', { host: HOST, 'sec-fetch-site': 'same-origin' }],
  ])('passes: %s', (_why, headers) => {
    expect(crossOriginRefusal(headers, LIST)).toBeNull();
  });

  it.each<[string, H, RegExp]>([
    ['sibling port (same site)', { host: HOST, origin: 'http://heldar.example:9000' }, /not.*origin|neither/],
    ['sibling subdomain (same site)', { host: HOST, origin: 'http://evil.heldar.example:8080' }, /neither/],
    ['a foreign site', { host: HOST, origin: 'https://evil.example' }, /evil\.example is neither/],
    ['"*" in the list admits no cookie request', { host: HOST, origin: 'https://any.example' }, /neither/],
    ['opaque origin (sandboxed page)', { host: HOST, origin: 'null' }, /opaque/],
    [
      'opaque origin, cross-site fetch metadata',
      { host: HOST, origin: 'null', 'sec-fetch-site': 'cross-site' },
      /cross-site/,
    ],
    ['no Origin, same-site fetch metadata', { host: HOST, 'sec-fetch-site': 'same-site' }, /same-site/],
    ['no Origin, foreign Referer', { host: HOST, referer: 'http://heldar.example:9000/x' }, /neither/],
    ['no Origin, Referer that is no URL', { host: HOST, referer: 'not a url' }, /Referer is not a URL/],
    ['no Origin, opaque Referer', { host: HOST, referer: 'data:text/html,x' }, /opaque/],
    [
      'two origins (repeated header)',
      { host: HOST, origin: 'http://heldar.example:8080, https://evil.example' },
      /not one origin/,
    ],
    ['a non-http scheme', { host: HOST, origin: 'ftp://heldar.example:8080' }, /http\(s\)/],
    ['garbage', { host: HOST, origin: 'heldar.example:8080' }, /not an (http\(s\) )?origin/],
    ['no Host to compare with', { origin: 'http://heldar.example:8080' }, /neither/],
    [
      'a Host with userinfo tricks',
      { host: 'evil.example@heldar.example:8080', origin: 'http://heldar.example:8080' },
      /neither/,
    ],
    [
      'a Host with a path',
      { host: 'heldar.example:8080/x', origin: 'http://heldar.example:8080' },
      /neither/,
    ],
  ])('refuses: %s', (_why, headers, reason) => {
    expect(crossOriginRefusal(headers, LIST)).toMatch(reason);
  });

  it('an empty allowlist still admits the own origin', () => {
    expect(crossOriginRefusal({ host: HOST, origin: 'http://heldar.example:8080' }, [])).toBeNull();
    expect(crossOriginRefusal({ host: HOST, origin: 'https://console.example' }, [])).toMatch(/neither/);
  });
});
