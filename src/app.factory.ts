import { type INestApplication, Logger, type ValidationError } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { Logger as Pino } from 'pino';
import { AppModule } from './app.module';
import { DEFAULT_JSON_LIMIT, jsonDeeperThan, MAX_JSON_DEPTH, RAISED_JSON_LIMITS } from './common/body-limits';
import { BadRequestError, DomainError } from './common/errors';
import { consoleMiddleware, defaultWebDir } from './console/console-static';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { uuidv7 } from './common/ids';
import { FastQueryValidationPipe } from './common/query-fast-path';
import { accessLog, createRootLogger, PinoNestLogger } from './common/logger';
import { RequestContext } from './common/request-context';
import { staticHeaders } from './common/static-headers';
import { mediamtxClientOrigins } from './liveview/client-origins';
import { installUpgradeRouter } from './common/upgrade';
import type { HeldarConfig } from './config/heldar-config';
import { KERNEL_VERSION } from './version';
import { Telemetry } from './common/telemetry';
import { SidecarProxy } from './sidecars/sidecar-proxy';

type ModuleRef = Parameters<typeof AppModule.register>[1];

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) =>
      m.startsWith(e.property) ? m : `${path}: ${m}`,
    );
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const cfg = new DocumentBuilder()
    .setTitle('Heldar')
    .setDescription(
      'Open, self-hosted video kernel: cameras, recording, timeline, exports, live view, AI ingest, events. ' +
        'Every route declares the capability it needs; errors are `{"error", "code"}`.',
    )
    .setVersion(KERNEL_VERSION)
    .addBearerAuth()
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .build();
  return SwaggerModule.createDocument(app, cfg);
}

/** body-parser failures → domain errors with clear messages (else Nest rewraps them). */
function bodyParserError(err: unknown): unknown {
  const { type, limit, message } = (err ?? {}) as { type?: unknown; limit?: unknown; message?: string };
  if (type === 'entity.too.deep')
    return new BadRequestError(`request body nests deeper than ${MAX_JSON_DEPTH} levels`, 'JSON_TOO_DEEP');
  if (type === 'entity.parse.failed')
    return new BadRequestError(`request body is not valid JSON: ${message}`, 'INVALID_JSON');
  if (type === 'entity.too.large') {
    const kib = typeof limit === 'number' ? Math.round(limit / 1024) : '?';
    return new DomainError(413, 'PAYLOAD_TOO_LARGE', `request body exceeds the ${kib} KiB limit`);
  }
  return err;
}

/** Build the whole HTTP application (used by main.ts, the e2e tests and the OpenAPI script). */
export async function createApp(
  config: HeldarConfig,
  opts: { extraModules?: ModuleRef; logger?: Pino; webDir?: string } = {},
): Promise<NestExpressApplication> {
  const root = opts.logger ?? createRootLogger(config.logLevel);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register(config, opts.extraModules),
    {
      bodyParser: false,
      logger: new PinoNestLogger(root),
      abortOnError: false,
    },
  );
  app.set('trust proxy', false);
  // Slow senders (slow-loris) are cut with a 408: the whole request within HELDAR_HTTP_REQUEST_TIMEOUT_S,
  // the headers within 15 s of it, checked every second (Node's default check runs every 30 s).
  // Responses are not limited: event streams and downloads last as long as the client reads.
  const server = app.getHttpServer();
  server.requestTimeout = config.httpRequestTimeoutS * 1000;
  server.headersTimeout = Math.min(server.requestTimeout, 15_000);
  (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = 1000;
  // Protocol upgrades escape those timeouts: one listener for the whole server answers every one
  // (only /m/{id}/ accepts them) and bounds the wait for authorisation.
  installUpgradeRouter(server, [app.get(SidecarProxy, { strict: false })], {
    authTimeoutMs: Math.min(10_000, server.headersTimeout),
    logger: new Logger('Upgrade'),
  });
  app.disable('x-powered-by');

  // Request duration by route pattern (Prometheus), measured around everything below.
  app.use(app.get(Telemetry).httpMiddleware());

  // Request id + structured access log.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : uuidv7();
    req.headers['x-request-id'] = id;
    res.setHeader('X-Request-Id', id);
    RequestContext.run({ requestId: id, ip: req.socket.remoteAddress }, next);
  });
  app.use(accessLog(root));

  // helmet's headers do not depend on the request: computed once, set by one middleware.
  app.use(staticHeaders(helmet({ contentSecurityPolicy: false })));
  // With MediaMTX, the console reaches its WHEP and HLS servers (connect-src): only their origins,
  // as the live-view URLs name them for this request's Host (a loopback base follows the Host).
  const mtxBases = config.mediamtxApiUrl ? [config.mediamtxWebrtcBase, config.mediamtxHlsBase] : [];
  const csp = helmet.contentSecurityPolicy({
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"], // Swagger UI's bootstrap script
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      // The console plays HLS through Media Source Extensions: the <video> reads a blob: URL.
      mediaSrc: ["'self'", 'blob:'],
      workerSrc: ["'self'", 'blob:'],
      // Without MediaMTX, connect-src falls back to default-src 'self' (the header stays as it was).
      ...(mtxBases.length > 0
        ? {
            connectSrc: [
              "'self'",
              (req: IncomingMessage) => mediamtxClientOrigins(mtxBases, req.headers.host).join(' '),
            ],
          }
        : {}),
      // Not helmet's default upgrade-insecure-requests: on a kernel reached over plain http by a
      // LAN address (not localhost) it rewrote every same-origin script, stylesheet and fetch
      // to https, which the kernel does not serve, and the console (and /docs) never loaded.
      upgradeInsecureRequests: null,
    },
  });
  app.use(mtxBases.length > 0 ? csp : staticHeaders(csp));
  // The operator console at `/` (dist/web; a clear 404 when it is not built).
  app.use(consoleMiddleware(opts.webDir ?? defaultWebDir(__dirname)));
  const origins = config.corsOriginList;
  if (origins.length > 0) {
    app.enableCors({ origin: origins.includes('*') ? true : origins, credentials: !origins.includes('*') });
  }

  // JSON bodies: 1 MiB unless a route raised its limit.
  const parsers = new Map<string, express.RequestHandler>();
  const parserFor = (limit: string) => {
    let p = parsers.get(limit);
    if (!p) {
      p = express.json({
        limit,
        // Refused before parsing: a body nested thousands deep would overflow the validator's stack.
        verify: (_req, _res, buf) => {
          if (jsonDeeperThan(buf, MAX_JSON_DEPTH))
            throw Object.assign(new Error('too deep'), { status: 400, type: 'entity.too.deep' });
        },
      });
      parsers.set(limit, p);
    }
    return p;
  };
  app.use((req: Request, res: Response, next: NextFunction) => {
    // No body (most GETs): nothing to parse, and no route-limit lookup (as body-parser's own check).
    if (req.headers['transfer-encoding'] === undefined && req.headers['content-length'] === undefined)
      return next();
    if (req.path.startsWith('/m/')) return next(); // sidecar bodies are streamed through untouched
    const raised = RAISED_JSON_LIMITS.find((r) => r.method === req.method && r.path.test(req.path));
    parserFor(raised?.limit ?? DEFAULT_JSON_LIMIT)(req, res, (err?: unknown) => next(bodyParserError(err)));
  });

  app.useGlobalFilters(new HttpExceptionFilter());
  app.useGlobalPipes(
    new FastQueryValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) =>
        new BadRequestError(flatten(errors).join('; ') || 'invalid request', 'VALIDATION_FAILED'),
    }),
  );

  // The document is built on the first request for it (/openapi.json, /docs), not at boot: scanning
  // every route and DTO costs a few hundred ms that /readyz would otherwise wait for.
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), {
    jsonDocumentUrl: 'openapi.json',
    customSiteTitle: 'Heldar API',
  });

  new Logger('Heldar').debug(`application built (auth ${config.authEnabled ? 'on' : 'off'})`);
  return app;
}
