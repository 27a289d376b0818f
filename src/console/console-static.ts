import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname, join } from 'node:path';

/**
 * The operator console (web/, built by `npm run build` into dist/web/) served at `/` on the API's
 * own origin, so the session cookie works and nothing is loaded from elsewhere.
 *
 *   GET /                  → index.html (`Cache-Control: no-cache`: a new build is seen at once)
 *   GET /app/...           → index.html (client-side routes: a reload or a shared link works)
 *   GET /assets/<hashed>   → the JS and CSS; their names carry their content hash, so they are
 *                            cached for a year as immutable
 * Anything else is not the console's and goes on to the API. Without a build, `/` and `/app/...`
 * answer 404 CONSOLE_NOT_BUILT saying how to build it, and the kernel runs on.
 */

export type ConsoleTarget = { kind: 'index' } | { kind: 'asset'; file: string } | { kind: 'none' };

/** Hashed asset names esbuild writes (`app-<hash>.js|css`, their maps). */
const ASSET = /^\/assets\/(app-[A-Za-z0-9]{6,16}\.(?:js|css)(?:\.map)?)$/;

/** What a request path is, for the console (pure). */
export function consoleTarget(method: string, path: string): ConsoleTarget {
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'none' };
  if (path === '/' || path === '/app' || path.startsWith('/app/')) return { kind: 'index' };
  const m = ASSET.exec(path);
  return m ? { kind: 'asset', file: m[1] } : { kind: 'none' };
}

export function contentTypeOf(file: string): string {
  if (file.endsWith('.js')) return 'text/javascript; charset=utf-8';
  if (file.endsWith('.css')) return 'text/css; charset=utf-8';
  if (file.endsWith('.map')) return 'application/json; charset=utf-8';
  return 'text/html; charset=utf-8';
}

/**
 * Where the built console is, from the directory of the kernel's code (pure): next to the bundle
 * (`dist/heldar.bundle.js` → dist/web), beside tsc's output (`dist/src` → dist/web), or, when the
 * kernel runs from its TypeScript sources (`src`, the tests), the repository's dist/web.
 */
export function defaultWebDir(kernelDir: string): string {
  if (basename(kernelDir) === 'dist') return join(kernelDir, 'web');
  if (basename(dirname(kernelDir)) === 'dist') return join(dirname(kernelDir), 'web');
  return join(dirname(kernelDir), 'dist', 'web');
}

interface Cached {
  mtimeMs: number;
  size: number;
  body: Buffer;
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** The middleware serving the console from `webDir` (read per request, cached by mtime and size). */
export function consoleMiddleware(webDir: string): Middleware {
  const cache = new Map<string, Cached>();
  const read = (file: string): Buffer | null => {
    const path = join(webDir, file);
    try {
      const st = statSync(path);
      if (!st.isFile()) return null;
      const hit = cache.get(path);
      if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.body;
      const body = readFileSync(path);
      cache.set(path, { mtimeMs: st.mtimeMs, size: st.size, body });
      return body;
    } catch {
      return null;
    }
  };
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?')[0];
    const target = consoleTarget(req.method ?? 'GET', path);
    if (target.kind === 'none') return next();
    const file = target.kind === 'index' ? 'index.html' : target.file;
    const body = read(target.kind === 'index' ? file : join('assets', file));
    if (!body) {
      if (target.kind === 'asset') return next(); // the API's own 404
      res.statusCode = 404;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.end(
        JSON.stringify({
          error:
            'the operator console is not built (no index.html in dist/web): run `npm run build`; ' +
            'the API (/api/v1), its docs (/docs) and media are served as usual',
          code: 'CONSOLE_NOT_BUILT',
        }),
      );
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', contentTypeOf(file));
    res.setHeader('Content-Length', body.length);
    res.setHeader(
      'Cache-Control',
      target.kind === 'index' ? 'no-cache' : 'public, max-age=31536000, immutable',
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
