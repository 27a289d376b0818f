import { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { maskRequestUrl, maskUrl } from './redaction';

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskUrl(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  // The access log's req/res go to their serializers (which run after this formatter) untouched: a
  // copy would lose `headersSent` and log every status code as null. Their serializers mask.
  if (value instanceof IncomingMessage || value instanceof ServerResponse) return value;
  if (value instanceof Error) {
    return { type: value.name, message: maskUrl(value.message), stack: value.stack && maskUrl(value.stack) };
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = /pass(word)?|secret|token|authorization|cookie|api[-_]?key/i.test(k)
      ? '[redacted]'
      : scrub(v, depth + 1);
  }
  return out;
}

/** Structured JSON logs (pino) with `user:pass@` and secret-looking fields redacted everywhere. */
export function createRootLogger(level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'heldar' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? maskUrl(a) : a)) as Parameters<typeof method>,
        );
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The access log (one line per request, `/healthz` excepted). The request target is logged with
 * its credential-looking query values masked: viewer tokens (`?token=`), `key`, `api_key`,
 * `ticket`, `sig`... never reach the log.
 */
export function accessLog(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (req) => String(req.headers['x-request-id']),
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: maskRequestUrl(req.url),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    autoLogging: { ignore: (req) => req.url === '/healthz' },
  });
}

/** Nest's LoggerService on top of pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  private write(
    level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    rest: unknown[],
  ) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
      this.logger[level]({ context, ...message });
    } else if (message instanceof Error) {
      this.logger[level]({ context, err: message }, message.message);
    } else {
      const trace = level === 'error' && typeof rest[0] === 'string' && rest.length > 1 ? rest[0] : undefined;
      this.logger[level]({ context, ...(trace ? { trace } : {}) }, String(message));
    }
  }

  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.write('fatal', message, rest);
  }
}
