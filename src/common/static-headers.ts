import type { IncomingMessage, ServerResponse } from 'node:http';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * A middleware whose headers never depend on the request (helmet with static directives), run
 * once at boot against a recording response: the result sets the same headers, and removes the
 * same ones, with one call per request instead of one middleware per header.
 */
export function staticHeaders(middleware: Middleware): Middleware {
  const set = new Map<string, string | number | readonly string[]>();
  const removed = new Set<string>();
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      removed.delete(name.toLowerCase());
      set.set(name, value);
      return recorder;
    },
    removeHeader(name: string) {
      for (const k of set.keys()) if (k.toLowerCase() === name.toLowerCase()) set.delete(k);
      removed.add(name.toLowerCase());
    },
  };
  let completed = false;
  middleware(
    { headers: {}, method: 'GET', url: '/' } as IncomingMessage,
    recorder as unknown as ServerResponse,
    (err) => {
      if (err) throw err instanceof Error ? err : new Error('staticHeaders: the middleware failed');
      completed = true;
    },
  );
  if (!completed) throw new Error('staticHeaders: the middleware did not call next() at once');
  const toSet = [...set];
  const toRemove = [...removed];
  return (_req, res, next) => {
    for (let i = 0; i < toRemove.length; i++) res.removeHeader(toRemove[i]);
    for (let i = 0; i < toSet.length; i++) res.setHeader(toSet[i][0], toSet[i][1]);
    next();
  };
}
