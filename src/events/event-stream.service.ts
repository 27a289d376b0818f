import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { EventDto } from './dto/event.dto';
import { filter as filter$, merge, type Subscription, tap } from 'rxjs';
import { EventBus, type KernelEvent } from './event-bus';
import { EventHorizon } from './event-horizon';
import { severityRank } from './event-types';
import { EventsService } from './events.service';
import type { EventQuery } from './events.repository';

/** Comment line sent every so often, so proxies and clients see a live connection. */
export const SSE_HEARTBEAT_MS = 15_000;
/** Replay reads the table in pages of this many events. */
const REPLAY_PAGE = 500;
/** A live client whose unsent bytes pass this is too slow: it is cut off (and resumes with Last-Event-ID). */
const MAX_BUFFERED_BYTES = 1 << 20;
/** Live events held while a replay runs; past this the stream ends rather than grow without bound. */
const MAX_BACKLOG = 10_000;
/** Seqs the replay sent, remembered to drop their live copies (more than the backlog can hold). */
const REPLAYED_MEMORY = 2 * MAX_BACKLOG;

export interface StreamFilter {
  cameraId?: string;
  /** Exact type, or a prefix ending in `*`. */
  eventType?: string;
  minSeverity?: string;
  /** 'all', or the cameras a scoped credential may see. */
  scope: 'all' | readonly string[];
}

/** The same test for replayed and live events (so both halves of a stream agree). */
export function streamMatches(f: StreamFilter, e: KernelEvent): boolean {
  if (f.cameraId && e.cameraId !== f.cameraId) return false;
  if (f.scope !== 'all' && (e.cameraId === null || !f.scope.includes(e.cameraId))) return false;
  if (f.eventType) {
    const ok = f.eventType.endsWith('*')
      ? e.eventType.startsWith(f.eventType.slice(0, -1))
      : e.eventType === f.eventType;
    if (!ok) return false;
  }
  return !f.minSeverity || severityRank(e.severity) >= severityRank(f.minSeverity);
}

/** A page of the stored events a stream reads (the replay, the catch-up), by the stream's filter. */
export function streamQuery(f: StreamFilter, sinceSeq: number, untilSeq?: number): EventQuery {
  return {
    cameraId: f.cameraId,
    eventType: f.eventType,
    minSeverity: f.minSeverity,
    cameraIds: f.scope === 'all' ? undefined : f.scope,
    sinceSeq,
    untilSeq,
    limit: REPLAY_PAGE,
  };
}

function frame(e: KernelEvent): string {
  return `id: ${e.seq}\nevent: ${e.eventType}\ndata: ${JSON.stringify(EventDto.from(e))}\n\n`;
}

interface OpenStream {
  res: Response;
  close(reason: 'client' | 'slow' | 'shutdown' | 'error'): void;
}

/**
 * Server-Sent Events of kernel events. A resuming stream subscribes to the bus first, replays
 * the table after the client's last seq while holding live events back, then sends the held
 * ones it did not replay: no gap, no duplicate. Written straight to the response, paced by the
 * socket during replay; a live client that stops reading is cut off instead of buffered forever.
 * On PostgreSQL (seq order is not commit order there) the stream is a cursor over the table up to
 * the visibility horizon instead (`ordered`): every event once, in seq order.
 */
@Injectable()
export class EventStreamService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('EventStream');
  private readonly streams = new Set<OpenStream>();
  private stopping = false;

  constructor(
    private readonly bus: EventBus,
    private readonly events: EventsService,
    private readonly horizon: EventHorizon,
  ) {}

  /** How many streams are open. */
  get openCount(): number {
    return this.streams.size;
  }

  /** Start streaming on `res` (validation and authorisation are done: headers go out now). */
  open(res: Response, filter: StreamFilter, sinceSeq: number | undefined): void {
    if (!res.socket || res.socket.destroyed) return; // gone while it was authorised
    if (this.stopping) {
      res.destroy();
      return;
    }
    if (this.horizon.bounded && sinceSeq === undefined) {
      // PostgreSQL: a new stream is a cursor from the horizon, read before the stream announces
      // itself, so any event emitted once the client sees it open has a higher seq.
      this.horizon.settled().then(
        (from) => this.open(res, filter, from),
        (err: unknown) => {
          this.logger.error({ err }, 'event stream could not start');
          res.destroy();
        },
      );
      return;
    }
    let closed = false;
    let replaying = sinceSeq !== undefined;
    let held: KernelEvent[] = [];
    const replayed = new Set<number>();

    /** Live write: a stalled client is cut off past the byte bound. */
    const push = (chunk: string) => {
      if (closed) return;
      if (!res.write(chunk) && res.writableLength > MAX_BUFFERED_BYTES) stream.close('slow');
    };
    /** Paced write (replay, held events): wait for the socket to drain. */
    const pace = async (chunk: string) => {
      if (closed || res.write(chunk)) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    };

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': connected\n\n');
    const heartbeat = setInterval(() => push(': ping\n\n'), SSE_HEARTBEAT_MS);
    // Subscribed before the replay query: whatever commits meanwhile is held, not lost.
    const sub = this.horizon.bounded
      ? this.ordered(filter, sinceSeq ?? 0, {
          pace,
          slow: () => stream.close('slow'),
          isClosed: () => closed,
          fail: (err) => {
            if (closed) return; // e.g. the store closing under a stream ended for shutdown
            this.logger.error({ err }, 'event stream read failed');
            stream.close('error');
          },
        })
      : this.bus.events$.subscribe((e) => {
          if (closed || !streamMatches(filter, e)) return;
          // An event can commit, be read by the replay's last page, and only then reach the bus (its
          // publish follows its commit): what the replay sent is not sent again live.
          if (!replaying) return replayed.has(e.seq) ? undefined : push(frame(e));
          held.push(e);
          if (held.length > MAX_BACKLOG) stream.close('slow');
        });

    const stream: OpenStream = {
      res,
      close: (reason) => {
        if (closed) return;
        closed = true;
        if (reason === 'slow') {
          this.logger.warn(
            { buffered: res.writableLength, held: held.length },
            'event stream client too slow; disconnected (it resumes with Last-Event-ID)',
          );
        }
        sub.unsubscribe();
        clearInterval(heartbeat);
        held = [];
        this.streams.delete(stream);
        // Never reused for another request: the socket goes once the end is flushed, at once if stuck.
        if (reason === 'client' || reason === 'slow' || res.writableNeedDrain) res.destroy();
        else res.end(() => res.socket?.destroy());
      },
    };
    this.streams.add(stream);
    // The response's 'close' (the request's fires as soon as its empty body is read, on Node ≥ 16).
    res.on('close', () => stream.close('client'));
    res.on('error', () => stream.close('client'));
    if (sinceSeq === undefined || this.horizon.bounded) return;

    const replay = async () => {
      let cursor = sinceSeq;
      while (!closed) {
        const page = await this.events.list(streamQuery(filter, cursor));
        for (const e of page) {
          if (closed) return;
          if (!streamMatches(filter, e)) continue;
          replayed.add(e.seq);
          if (replayed.size > REPLAYED_MEMORY) replayed.delete(replayed.values().next().value!);
          await pace(frame(e));
        }
        if (page.length < REPLAY_PAGE) break;
        cursor = page[page.length - 1].seq;
      }
      // Held events (more may arrive while these drain), minus those the replay already sent.
      for (let i = 0; i < held.length && !closed; i++) {
        const e = held[i];
        if (e.seq > sinceSeq && !replayed.has(e.seq)) await pace(frame(e));
      }
      held = [];
      replaying = false;
    };
    replay().catch((err: unknown) => {
      if (closed) return; // e.g. the store closing under a stream ended for shutdown
      this.logger.error({ err }, 'event stream replay failed');
      stream.close('error');
    });
  }

  /**
   * PostgreSQL, where seq order is not commit order: the stream is a cursor over the table, read
   * only up to the visibility horizon (EventHorizon), so it sends every event once, in seq order,
   * and a client resuming with the last id it got misses nothing. A commit (the bus) or a move of
   * the horizon rings the bell; the stream then reads past its cursor. Without `Last-Event-ID` the
   * cursor starts at the horizon when the stream opens (events committed since, and any still open
   * beside them, are sent). Live, an event waits for the transactions open beside it to end.
   */
  private ordered(
    filter: StreamFilter,
    sinceSeq: number,
    io: {
      pace(chunk: string): Promise<void>;
      slow(): void;
      isClosed(): boolean;
      fail(err: unknown): void;
    },
  ): Subscription {
    let cursor = sinceSeq;
    /**
     * Once the cursor has passed every event drawn before the stream opened (`target`), a client
     * that stops reading is cut off. Not merely once the first read ends: that read stops at the
     * horizon, which lags behind writers open beside it, and a resuming client stalled in a backlog
     * the horizon had not reached yet would be cut off for being slow in its own replay.
     */
    let caughtUp = false;
    let target: number | undefined;
    /** A write is waiting for the socket to drain; `owed`: bytes of the live events since. */
    let waiting = false;
    let owed = 0;
    const write = async (chunk: string) => {
      waiting = true;
      try {
        await io.pace(chunk);
      } finally {
        waiting = false;
        owed = 0;
      }
    };
    let reading = false;
    let again = false;

    const read = async () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          const until = await this.horizon.settled();
          target ??= this.horizon.drawn;
          while (!io.isClosed() && cursor < until) {
            const page = await this.events.list(streamQuery(filter, cursor, until));
            for (const e of page) {
              if (io.isClosed()) return;
              if (!streamMatches(filter, e)) continue;
              await write(frame(e));
            }
            cursor = page.length < REPLAY_PAGE ? until : page[page.length - 1].seq;
          }
        } while (again && !io.isClosed());
        // Nothing more to read up to "now": from then on a client that stops reading is cut off
        // (it resumes with Last-Event-ID).
        if (target !== undefined && cursor >= target) caughtUp = true;
      } finally {
        reading = false;
      }
    };
    const ring = () => {
      if (!io.isClosed()) read().catch(io.fail);
    };
    const sub = merge(
      this.bus.events$.pipe(
        filter$((e) => streamMatches(filter, e)),
        // Live, the unsent bytes are what the socket holds plus what it is owed meanwhile: past
        // the bound the client is too slow (it resumes with Last-Event-ID), as on SQLite.
        tap((e) => {
          if (caughtUp && waiting && (owed += frame(e).length) > MAX_BUFFERED_BYTES) io.slow();
        }),
      ),
      this.horizon.advanced$,
    ).subscribe(ring);
    // After the subscription: whatever commits from now on rings again.
    ring();
    return sub;
  }

  /** Open streams would keep the HTTP server from closing: end them first. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
    for (const s of [...this.streams]) s.close('shutdown');
  }
}
