import {
  type BeforeApplicationShutdown,
  Controller,
  All,
  Inject,
  Injectable,
  Logger,
  Param,
  Req,
  Res,
} from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { RequestHandler } from 'http-proxy-middleware';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { RequireCapability } from '../auth/decorators';
import { hasCapability, type Principal, SYSTEM_PRINCIPAL, PRINCIPAL_KEY } from '../auth/principal';
import { PrincipalResolver } from '../auth/principal-resolver';
import { DomainError, ForbiddenError, NotFoundError } from '../common/errors';
import { refuseUpgrade, upgradeAnswered, type UpgradeRoute } from '../common/upgrade';
import { HeldarConfig } from '../config/heldar-config';
import { GuardedHttpAgent, GuardedHttpsAgent } from '../webhooks/egress';
import { SidecarsService } from './sidecars.service';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer'];
/** Credentials, and client-address claims a sidecar might trust (`xfwd` then adds the kernel's own). */
const STRIPPED_REQUEST = [
  'cookie',
  'authorization',
  'x-api-key',
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
];
/**
 * Sidecar headers that would act beyond its page: on the whole kernel origin (cookies, HSTS,
 * clear-site-data, service-worker scope, reporting/NEL, alt-svc, client hints, agent clustering),
 * or that loosen what `SIDECAR_RESPONSE_HEADERS` forces (its own CSP, framing, COOP/CORP/COEP).
 */
const STRIPPED_RESPONSE = [
  'set-cookie',
  'strict-transport-security',
  'clear-site-data',
  'service-worker-allowed',
  'content-security-policy',
  'content-security-policy-report-only',
  'x-frame-options',
  'cross-origin-embedder-policy',
  'nel',
  'report-to',
  'reporting-endpoints',
  'alt-svc',
  'accept-ch',
  'critical-ch',
  'origin-agent-cluster',
];

/**
 * Forced on every proxied response. The sandbox (without `allow-same-origin`) runs a sidecar page
 * in an opaque origin: it cannot read the kernel's cookies, call the API as the user or register a
 * service worker, though it is served from the kernel's host. Framing stays as the kernel's own
 * (`X-Frame-Options: SAMEORIGIN`, set before the proxy).
 */
export const SIDECAR_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': 'sandbox allow-scripts allow-forms allow-popups allow-downloads',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** The kernel's names in any spelling: Node keeps `x_heldar_user` as is, some servers read it as `x-heldar-user`. */
function requestHeaderStripped(name: string): boolean {
  const h = name.toLowerCase().replace(/_/g, '-');
  return (
    h.startsWith('x-heldar-') ||
    h.startsWith('x-forwarded-') ||
    STRIPPED_REQUEST.includes(h) ||
    HOP_BY_HOP.includes(h)
  );
}

/** What the sidecar may know of the caller: who, which role, which cameras — never credentials. */
export function forwardHeaders(headers: IncomingMessage['headers'], p: Principal, ws: boolean): void {
  for (const h of Object.keys(headers)) {
    if (requestHeaderStripped(h)) delete headers[h];
  }
  if (!ws) delete headers.upgrade;
  else headers.connection = 'Upgrade';
  headers['x-heldar-user'] = p.name;
  headers['x-heldar-role'] = p.role ?? '';
  headers['x-heldar-principal-kind'] = p.kind;
  headers['x-heldar-camera-scope'] = p.cameraScope === 'all' ? '*' : p.cameraScope.join(',');
}

export function scrubResponse(headers: IncomingMessage['headers']): void {
  for (const h of Object.keys(headers)) {
    if (STRIPPED_RESPONSE.includes(h) || h.startsWith('access-control-')) delete headers[h];
  }
  Object.assign(headers, SIDECAR_RESPONSE_HEADERS);
}

function badGateway(res: ServerResponse | Socket, id: string, err: Error): void {
  const body = JSON.stringify({
    error: `module \`${id}\` is unreachable: ${err.message}`,
    code: 'MODULE_UNREACHABLE',
  });
  if ('writeHead' in res) {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json; charset=utf-8' });
    res.end(body);
  } else {
    res.end(
      `HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
}

const UPGRADE_PATH = /^\/m\/([A-Za-z0-9_-]{1,64})(\/|\?|$)/;

/**
 * `/m/{id}/*` → the sidecar's origin, streamed both ways (the JSON body parser skips `/m/`).
 * One proxy per module and origin; WebSocket upgrades (routed here by the server's upgrade router,
 * see app.factory) are authorised like requests.
 */
@Injectable()
export class SidecarProxy implements UpgradeRoute, BeforeApplicationShutdown {
  private readonly logger = new Logger('SidecarProxy');
  private readonly proxies = new Map<string, { origin: string; handler: RequestHandler }>();
  /** Connect-time guard: a sidecar host re-pointed at a metadata address after registration is refused. */
  private readonly agents = { http: new GuardedHttpAgent(), https: new GuardedHttpsAgent() };

  constructor(
    private readonly modules: SidecarsService,
    private readonly resolver: PrincipalResolver,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  beforeApplicationShutdown(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  async handlerFor(id: string): Promise<RequestHandler | null> {
    const mod = await this.modules.lookup(id);
    if (!mod) return null;
    const cached = this.proxies.get(id);
    if (cached && cached.origin === mod.baseUrl) return cached.handler;
    const prefix = `/m/${id}`;
    // Loaded with the first sidecar request: a kernel without sidecars never needs it (and boot
    // skips its ~60 files).
    const { createProxyMiddleware } = await import('http-proxy-middleware');
    const handler = createProxyMiddleware({
      target: mod.baseUrl,
      agent: mod.baseUrl.startsWith('https:') ? this.agents.https : this.agents.http,
      changeOrigin: true,
      ws: false, // upgrades are routed by onUpgrade, after authorisation
      xfwd: true,
      proxyTimeout: this.config.moduleProxyTimeoutMs,
      timeout: this.config.moduleProxyTimeoutMs,
      pathRewrite: (path) => (path.startsWith(prefix) ? path.slice(prefix.length) || '/' : path),
      on: {
        proxyRes: (proxyRes) => scrubResponse(proxyRes.headers),
        error: (err, _req, res) => {
          this.logger.warn({ module: id, err: err.message }, 'sidecar request failed');
          badGateway(res, id, err);
        },
      },
    });
    this.proxies.set(id, { origin: mod.baseUrl, handler });
    return handler;
  }

  matchesUpgrade(url: string): boolean {
    return UPGRADE_PATH.test(url);
  }

  async handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const id = UPGRADE_PATH.exec(req.url ?? '')![1];
    const deny = (e: DomainError) => refuseUpgrade(socket, e.status, e.code, e.message);
    let principal: Principal = SYSTEM_PRINCIPAL;
    if (this.config.authEnabled) {
      try {
        this.resolver.assertOrigin(req as Request, { upgrade: true });
        principal = await this.resolver.resolve(req as Request);
      } catch (err) {
        if (err instanceof DomainError) return deny(err);
        throw err;
      }
      if (!hasCapability(principal, 'module:proxy'))
        return deny(new ForbiddenError('requires capability module:proxy', 'MISSING_CAPABILITY'));
    }
    const handler = await this.handlerFor(id);
    if (!handler) return deny(new NotFoundError(`module \`${id}\` is not registered`, 'MODULE_NOT_FOUND'));
    if (upgradeAnswered(socket)) return; // the router's deadline passed meanwhile
    forwardHeaders(req.headers, principal, true);
    const prefix = `/m/${id}`;
    req.url = req.url!.slice(prefix.length) || '/';
    if (!req.url.startsWith('/')) req.url = `/${req.url}`;
    handler.upgrade(req, socket, head);
  }
}

@Controller('m')
export class SidecarProxyController {
  constructor(private readonly proxy: SidecarProxy) {}

  @All(':id')
  @RequireCapability('module:proxy')
  @ApiExcludeEndpoint()
  root(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(id, req, res);
  }

  @All(':id/*path')
  @RequireCapability('module:proxy')
  @ApiExcludeEndpoint()
  sub(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.forward(id, req, res);
  }

  private async forward(id: string, req: Request, res: Response): Promise<void> {
    // A worker script served from here would run on the kernel's origin, over the sidecar's
    // sandbox: whatever the sidecar answers, the browser never gets one.
    if (req.headers['service-worker'] !== undefined)
      throw new ForbiddenError('a sidecar path cannot serve a service worker', 'SERVICE_WORKER_REFUSED');
    const handler = await this.proxy.handlerFor(id);
    if (!handler) throw new NotFoundError(`module \`${id}\` is not registered`, 'MODULE_NOT_FOUND');
    const principal =
      (req as unknown as Record<string, Principal | undefined>)[PRINCIPAL_KEY] ?? SYSTEM_PRINCIPAL;
    forwardHeaders(req.headers, principal, false);
    req.url = req.originalUrl; // Nest's router may have trimmed it; rewrite from the full path
    await new Promise<void>((resolve) => {
      res.on('finish', resolve);
      res.on('close', resolve);
      void handler(req, res, () => resolve());
    });
  }
}
