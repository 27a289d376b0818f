import { HttpStatus } from '@nestjs/common';

/** Domain exception: a message safe to show, a stable machine code and an HTTP status. */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string, code = 'NOT_FOUND') {
    super(HttpStatus.NOT_FOUND, code, message);
  }
}

export class BadRequestError extends DomainError {
  constructor(message: string, code = 'BAD_REQUEST') {
    super(HttpStatus.BAD_REQUEST, code, message);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, code = 'CONFLICT') {
    super(HttpStatus.CONFLICT, code, message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string, code = 'FORBIDDEN') {
    super(HttpStatus.FORBIDDEN, code, message);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'authentication required', code = 'UNAUTHORIZED') {
    super(HttpStatus.UNAUTHORIZED, code, message);
  }
}

export class UnavailableError extends DomainError {
  constructor(message: string, code = 'UNAVAILABLE', retryAfterSeconds = 1) {
    super(HttpStatus.SERVICE_UNAVAILABLE, code, message, { 'Retry-After': String(retryAfterSeconds) });
  }
}

export class CameraNotFound extends NotFoundError {
  constructor(id: string) {
    super(`camera \`${id}\` not found`, 'CAMERA_NOT_FOUND');
  }
}

export class SiteNotFound extends NotFoundError {
  constructor(id: string) {
    super(`site \`${id}\` not found`, 'SITE_NOT_FOUND');
  }
}

export class TooManyRequestsError extends DomainError {
  constructor(message: string, retryAfterSeconds: number) {
    super(429, 'TOO_MANY_REQUESTS', message, {
      'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
}
