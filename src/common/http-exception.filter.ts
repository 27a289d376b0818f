import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError } from './errors';
import { mapDriverError } from './driver-errors';
import { RequestContext } from './request-context';

const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'TOO_MANY_REQUESTS',
  503: 'UNAVAILABLE',
};

function httpMessage(ex: HttpException): string {
  const body = ex.getResponse();
  if (typeof body === 'string') return body;
  const m = (body as { message?: unknown }).message;
  if (Array.isArray(m)) return m.join('; ');
  if (typeof m === 'string') return m;
  return ex.message;
}

/**
 * The one error envelope: `{"error": "<message>", "code": "<CODE>"}`. Domain errors keep their
 * code; driver errors map per `mapDriverError`; anything unknown is a 500 whose body says only
 * "internal error" and the request id, the detail going to the log under that id.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const requestId = RequestContext.current()?.requestId ?? String(req.headers['x-request-id'] ?? '');
    if (res.headersSent) {
      res.end();
      return;
    }

    const mapped = exception instanceof DomainError ? exception : mapDriverError(exception);
    if (mapped) {
      for (const [k, v] of Object.entries(mapped.headers)) res.setHeader(k, v);
      res.status(mapped.status).json({ error: mapped.message, code: mapped.code });
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse() as { code?: unknown };
      const code =
        typeof body === 'object' && typeof body.code === 'string' ? body.code : (CODES[status] ?? 'ERROR');
      if (status >= 500) this.logger.error({ requestId, err: exception }, 'request failed');
      res.status(status).json({ error: httpMessage(exception), code });
      return;
    }
    // other express middleware errors carry a client status (e.g. 415 charset from body-parser)
    const status = (exception as { status?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: (exception as Error).message, code: CODES[status] ?? 'BAD_REQUEST' });
      return;
    }
    this.logger.error({ requestId, err: exception, method: req.method, path: req.path }, 'unhandled error');
    res.status(500).json({ error: 'internal error', code: 'INTERNAL', request_id: requestId });
  }
}
