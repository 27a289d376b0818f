import { Injectable } from '@nestjs/common';

/** Time as an adapter so services can be tested at fixed instants. Timestamps are stored as
 * ISO-8601 UTC strings with milliseconds (`2026-11-22T10:00:00.000Z`): lexically sortable and
 * identical on SQLite and PostgreSQL. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }

  nowIso(): string {
    return this.now().toISOString();
  }

  nowMs(): number {
    return this.now().getTime();
  }
}
