import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import helmet from 'helmet';
import { staticHeaders } from './static-headers';

type Options = Parameters<typeof helmet>[0];

function run(mw: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void) {
  const req = new IncomingMessage(new Socket());
  const res = new ServerResponse(req);
  res.setHeader('X-Powered-By', 'Express');
  res.setHeader('Content-Type', 'application/json');
  let nexts = 0;
  mw(req, res, () => nexts++);
  return { headers: res.getHeaders(), names: res.getHeaderNames(), nexts };
}

describe('staticHeaders', () => {
  it.each<[string, Options]>([
    ['the defaults', undefined],
    [
      'the kernel’s CSP',
      {
        contentSecurityPolicy: {
          directives: {
            defaultSrc: ["'self'"],
            scriptSrc: ["'self'", "'unsafe-inline'"],
            styleSrc: ["'self'", "'unsafe-inline'"],
            imgSrc: ["'self'", 'data:'],
          },
        },
      },
    ],
    [
      'no CSP, HSTS off, frames denied',
      { contentSecurityPolicy: false, hsts: false, frameguard: { action: 'deny' } },
    ],
  ])('sets and removes what helmet does, in one call (%s)', (_name, options) => {
    const direct = run(helmet(options));
    const once = run(staticHeaders(helmet(options)));
    expect(once).toEqual(direct);
    expect(once.nexts).toBe(1);
    expect(once.headers['x-powered-by']).toBeUndefined();
    expect(once.headers['content-type']).toBe('application/json');
  });

  it('refuses a middleware that does not answer at once (its headers could depend on the request)', () => {
    expect(() => staticHeaders(() => undefined)).toThrow(/did not call next/);
  });
});
