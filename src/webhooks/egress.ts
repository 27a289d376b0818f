import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { promises as dns } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Agent } from 'undici';
import { blockedAddress, hostRefusal, isIpLiteral } from '../common/ip-address';

/**
 * Outbound HTTP for webhooks and sidecars. Loopback and LAN targets are legitimate (sidecars run
 * next to the kernel), but link-local addresses — where cloud metadata services live — are
 * refused in every spelling (src/common/ip-address.ts), after DNS resolution and again at
 * connect time (a name may be re-pointed). Redirects are never followed.
 */
export { blockedAddress } from '../common/ip-address';

/** Parse and vet a target URL: http(s), a host, no blocked name or resolved address. */
export async function vetUrl(raw: string): Promise<{ ok: true; url: URL } | { ok: false; problem: string }> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: 'url is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, problem: 'url must be http or https' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) return { ok: false, problem: 'url must include a host' };
  const literal = hostRefusal(host);
  if (literal) return { ok: false, problem: `url host ${host} is ${literal}` };
  let addrs: string[];
  if (isIpLiteral(host)) addrs = [host];
  else {
    try {
      addrs = (await dns.lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return { ok: false, problem: `url host ${host} does not resolve` };
    }
  }
  for (const a of addrs) {
    const why = blockedAddress(a);
    if (why) return { ok: false, problem: `url host ${host} resolves to ${why}` };
  }
  return { ok: true, url };
}

function refusedError(message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`refused: ${message}`);
  e.code = 'EBLOCKED';
  return e;
}

/** A DNS lookup that refuses blocked addresses at connect time (for `lookup` socket options). */
export function guardedLookup(
  hostname: string,
  options: object,
  cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return cb(err, '', 0);
    const list = addresses;
    const bad = list.find((a) => blockedAddress(a.address));
    if (bad) return cb(refusedError(`${hostname} resolves to ${blockedAddress(bad.address)}`), '', 0);
    if ((options as { all?: boolean }).all) return cb(null, list);
    return cb(null, list[0].address, list[0].family);
  });
}

/** Why connecting to `host` (a literal IP never goes through `lookup`) is refused, or null. */
function connectRefusal(host: string | null | undefined): NodeJS.ErrnoException | null {
  if (!host) return null;
  const why = hostRefusal(host);
  return why ? refusedError(`${host.replace(/^\[|\]$/g, '')} is ${why}`) : null;
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

/** An http.Agent that refuses blocked addresses at connect time: names via the guarded lookup, literals here. */
export class GuardedHttpAgent extends http.Agent {
  constructor(options: http.AgentOptions = {}) {
    super({ ...options, lookup: guardedLookup });
  }

  override createConnection(
    options: http.ClientRequestArgs,
    cb?: ConnectCallback,
  ): Duplex | null | undefined {
    const refused = connectRefusal(options.hostname ?? options.host);
    if (refused) {
      cb?.(refused, undefined as unknown as Duplex);
      return undefined;
    }
    return super.createConnection(options, cb);
  }
}

/** The https counterpart of GuardedHttpAgent. */
export class GuardedHttpsAgent extends https.Agent {
  constructor(options: https.AgentOptions = {}) {
    super({ ...options, lookup: guardedLookup });
  }

  override createConnection(options: https.RequestOptions, cb?: ConnectCallback): Duplex | null | undefined {
    const refused = connectRefusal(options.hostname ?? options.host);
    if (refused) {
      cb?.(refused, undefined as unknown as Duplex);
      return undefined;
    }
    return super.createConnection(options, cb);
  }
}

export interface PostResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** How much of a response body a delivery reads (and drops); past it the connection is closed. */
export const RESPONSE_DRAIN_LIMIT = 64 * 1024;

/** A POST target parsed once: the origin connections are pooled by, and the path. */
interface PostTarget {
  origin: string;
  path: string;
}

/**
 * The webhook client (undici): keep-alive connections pooled per origin, much cheaper per request
 * than node:http. Every new connection passes the egress guard at connect time — a name through
 * the guarded lookup (so a re-pointed name is refused), a literal here, in any spelling. TLS is
 * verified; redirects are never followed; a response body is read up to RESPONSE_DRAIN_LIMIT and
 * dropped (past it the connection is closed: a receiver streaming without end cannot hold a slot);
 * `timeoutMs` bounds connecting, waiting for the headers, and each wait for body data.
 */
export class GuardedClient {
  /** Built with the first delivery: undici (~750 KB of code) is not loaded by a kernel that sends none. */
  private agent?: Promise<Agent>;
  private readonly targets = new Map<string, PostTarget | string>();

  constructor(private readonly options: { connections: number; connectTimeoutMs: number }) {}

  /** Load the client now, without sending (a kernel with subscriptions: not at its first event). */
  warm(): void {
    this.pool().catch(() => {
      this.agent = undefined; // the first post tries again and reports why
    });
  }

  private pool(): Promise<Agent> {
    this.agent ??= import('undici').then((u) => {
      undici = u;
      const connect = u.buildConnector({ lookup: guardedLookup, timeout: this.options.connectTimeoutMs });
      return new u.Agent({
        connections: this.options.connections,
        connect: (opts, cb) => {
          const refused = connectRefusal(opts.hostname);
          if (refused) return cb(refused, null);
          return connect(opts, cb);
        },
      });
    });
    return this.agent;
  }

  /** The target of `url`, or why it cannot be one (parsed once per URL). */
  private target(url: string): PostTarget | string {
    let t = this.targets.get(url);
    if (t === undefined) {
      try {
        const u = new URL(url);
        t =
          u.protocol === 'http:' || u.protocol === 'https:'
            ? { origin: u.origin, path: `${u.pathname}${u.search}` }
            : 'url must be http or https';
      } catch {
        t = 'invalid url';
      }
      if (this.targets.size >= 1000) this.targets.clear();
      this.targets.set(url, t);
    }
    return t;
  }

  /** POST `body`; 2xx is success. `headers` is taken as is (the user agent is added to it). */
  async post(
    url: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<PostResult> {
    const started = Date.now();
    const t = this.target(url);
    if (typeof t === 'string') return { ok: false, statusCode: null, error: t, durationMs: 0 };
    headers['user-agent'] = 'Heldar/1';
    let code: number;
    try {
      const res = await (
        await this.pool()
      ).request({
        origin: t.origin,
        path: t.path,
        method: 'POST',
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      code = res.statusCode;
      await res.body.dump({ limit: RESPONSE_DRAIN_LIMIT });
    } catch (err) {
      return {
        ok: false,
        statusCode: null,
        error: clientError(err, timeoutMs),
        durationMs: Date.now() - started,
      };
    }
    const durationMs = Date.now() - started;
    if (code >= 200 && code < 300) return { ok: true, statusCode: code, error: null, durationMs };
    if (code >= 300 && code < 400)
      return { ok: false, statusCode: code, error: 'redirect not followed', durationMs };
    return { ok: false, statusCode: code, error: `HTTP ${code}`, durationMs };
  }

  /** Close every connection (in-flight requests fail). */
  async destroy(): Promise<void> {
    if (this.agent) await (await this.agent).destroy();
  }
}

/** undici, once a GuardedClient has loaded it. */
let undici: typeof import('undici') | undefined;

function clientError(err: unknown, timeoutMs: number): string {
  const e = undici?.errors;
  if (
    e &&
    (err instanceof e.HeadersTimeoutError ||
      err instanceof e.BodyTimeoutError ||
      err instanceof e.ConnectTimeoutError)
  )
    return `timed out after ${timeoutMs} ms`;
  return err instanceof Error ? err.message : String(err);
}

/** GET `url` (health probes); 2xx is success. */
export function get(url: string, timeoutMs: number): Promise<PostResult> {
  return send('GET', url, {}, null, timeoutMs);
}

function send(
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string>,
  body: string | null,
  timeoutMs: number,
  agent?: http.Agent,
): Promise<PostResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...r, durationMs: Date.now() - started });
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return done({ ok: false, statusCode: null, error: 'invalid url' });
    }
    // A literal IP never goes through `lookup`: judge it here (any spelling).
    const refused = connectRefusal(target.hostname);
    if (refused) return done({ ok: false, statusCode: null, error: refused.message });
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(
      target,
      {
        method,
        headers: {
          ...headers,
          ...(body === null ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          'user-agent': 'Heldar/1',
        },
        lookup: guardedLookup,
        timeout: timeoutMs,
        // Without an agent, a fresh connection: the name is resolved (and judged) every time.
        agent: agent ?? false,
      },
      (res) => {
        const code = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => {
          if (code >= 200 && code < 300) done({ ok: true, statusCode: code, error: null });
          else if (code >= 300 && code < 400)
            done({ ok: false, statusCode: code, error: 'redirect not followed' });
          else done({ ok: false, statusCode: code, error: `HTTP ${code}` });
        });
        res.on('error', (err) => done({ ok: false, statusCode: code, error: err.message }));
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error(`timed out after ${timeoutMs} ms`));
    });
    req.on('error', (err) => done({ ok: false, statusCode: null, error: err.message }));
    req.end(body ?? undefined);
  });
}
