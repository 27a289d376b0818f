import { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import { maskRequestUrl, maskUrl } from './redaction';

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskUrl(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  // A request or response logged whole goes to its serializer (which runs after this formatter)
  // untouched: a copy would lose `headersSent` and log every status code as null.
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
 *
 * The line is pino-http's (same fields, levels and messages) written by the root logger when the
 * response finishes (or the connection closes first): no child logger nor serializers per request,
 * and nothing built at all when the level is off.
 */
export function accessLog(logger: Logger) {
  return (
    req: IncomingMessage & { originalUrl?: string },
    res: ServerResponse & { err?: unknown },
    next?: () => void,
  ): void => {
    if (req.url === '/healthz') {
      next?.();
      return;
    }
    const id = String(req.headers['x-request-id']);
    const method = req.method;
    const target = req.originalUrl || req.url || '';
    const started = Date.now();
    const complete = (err?: unknown) => {
      res.removeListener('close', complete);
      res.removeListener('finish', complete);
      res.removeListener('error', complete);
      const responseTime = Date.now() - started;
      const failed = err || res.err || res.statusCode >= 500;
      const level = failed ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const reqField = { id, method, url: maskRequestUrl(target) };
      const resField = { statusCode: res.statusCode };
      if (failed) {
        const error = err || res.err || new Error(`failed with status code ${res.statusCode}`);
        logger.error({ req: reqField, res: resField, err: error, responseTime }, 'request errored');
      } else {
        logger.info({ req: reqField, res: resField, responseTime }, 'request completed');
      }
    };
    res.on('close', complete);
    res.on('finish', complete);
    res.on('error', complete);
    next?.();
  };
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
      // `logger.warn({ fields }, 'text')` on a Nest Logger with a context arrives as
      // (fields, 'text', context): the text is the message, not a second context.
      const text = rest.length >= 2 && typeof rest[0] === 'string' ? rest[0] : undefined;
      if (text !== undefined) this.logger[level]({ context, ...message }, text);
      else this.logger[level]({ context, ...message });
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
