import {
  type BeforeApplicationShutdown,
  Controller,
  All,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Param,
  Req,
  Res,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { RequireCapability } from '../auth/decorators';
import { hasCapability, type Principal, SYSTEM_PRINCIPAL, PRINCIPAL_KEY } from '../auth/principal';
import { PrincipalResolver } from '../auth/principal-resolver';
import { NotFoundError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';
import { ModulesService } from './modules.service';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer'];
const STRIPPED_REQUEST = ['cookie', 'authorization', 'x-api-key', 'forwarded'];
const STRIPPED_RESPONSE = ['set-cookie', 'strict-transport-security', 'clear-site-data'];

/** What the sidecar may know of the caller: who, which role, which cameras — never credentials. */
export function forwardHeaders(headers: IncomingMessage['headers'], p: Principal, ws: boolean): void {
  for (const h of Object.keys(headers)) {
    if (h.startsWith('x-heldar-') || STRIPPED_REQUEST.includes(h) || HOP_BY_HOP.includes(h))
      delete headers[h];
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

/**
 * `/m/{id}/*` → the sidecar's origin, streamed both ways (the JSON body parser skips `/m/`).
 * One proxy per module and origin; WebSocket upgrades are authorised like requests.
 */
@Injectable()
export class ModuleProxy implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ModuleProxy');
  private readonly proxies = new Map<string, { origin: string; handler: RequestHandler }>();
  private server?: Server;

  constructor(
    private readonly modules: ModulesService,
    private readonly resolver: PrincipalResolver,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.onUpgrade);
  }

  beforeApplicationShutdown(): void {
    this.server?.off('upgrade', this.onUpgrade);
  }

  async handlerFor(id: string): Promise<RequestHandler | null> {
    const mod = await this.modules.find(id);
    if (!mod) return null;
    const cached = this.proxies.get(id);
    if (cached && cached.origin === mod.baseUrl) return cached.handler;
    const prefix = `/m/${id}`;
    const handler = createProxyMiddleware({
      target: mod.baseUrl,
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

  private readonly onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const m = /^\/m\/([A-Za-z0-9_-]{1,64})(\/|\?|$)/.exec(req.url ?? '');
    if (!m) return; // not ours
    void this.upgrade(m[1], req, socket, head).catch((err: unknown) => {
      this.logger.warn({ err }, 'websocket upgrade failed');
      socket.destroy();
    });
  };

  private async upgrade(id: string, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const deny = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\n\r\n`);
    };
    let principal: Principal = SYSTEM_PRINCIPAL;
    if (this.config.authEnabled) {
      try {
        principal = await this.resolver.resolve(req as Request);
      } catch {
        return deny('401 Unauthorized');
      }
      if (!hasCapability(principal, 'module:proxy')) return deny('403 Forbidden');
    }
    const handler = await this.handlerFor(id);
    if (!handler) return deny('404 Not Found');
    forwardHeaders(req.headers, principal, true);
    const prefix = `/m/${id}`;
    req.url = req.url!.slice(prefix.length) || '/';
    if (!req.url.startsWith('/')) req.url = `/${req.url}`;
    handler.upgrade(req, socket, head);
  }
}

@Controller('m')
export class ModuleProxyController {
  constructor(private readonly proxy: ModuleProxy) {}

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
