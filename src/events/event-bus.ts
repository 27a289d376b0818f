import { Injectable, Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import type { EventEntity } from './entities/event.entity';
import type { KernelEventPayloads, KernelEventType } from './event-types';

export interface KernelEvent {
  seq: number;
  id: string;
  cameraId: string | null;
  siteId: string | null;
  eventType: string;
  severity: string;
  timestamp: string;
  payload: Record<string, unknown>;
  createdAt: string;
  /**
   * Committed by another kernel sharing this PostgreSQL (a cluster node), read back from the table
   * and published here by EventRelay; absent for this kernel's own events.
   */
  remote?: true;
}

/** A kernel event of type `T`, with that type's payload. */
export type TypedKernelEvent<T extends KernelEventType> = {
  [K in T]: Omit<KernelEvent, 'eventType' | 'payload'> & { eventType: K; payload: KernelEventPayloads[K] };
}[T];

/** A subscriber: it may be async; a throw or a rejection is logged with the event's type. */
export type EventHandler<E> = (event: E) => void | Promise<void>;

/** Ends a subscription (call it in onModuleDestroy / onApplicationShutdown). */
export type Unsubscribe = () => void;

export interface SubscribeOptions {
  /**
   * Also receive events committed by other nodes of the cluster (`remote: true`). Default: only
   * this kernel's own. Opt in only for a handler that is safe to run on every node for one event
   * (a cache to drop, a stream to feed): one with a side effect or a derived event (an audit row,
   * a recorder start, a trigger) would run once per node. See docs/architecture.md.
   */
  remote?: boolean;
}

/** In-process bus. Events are published only after their row is committed. */
@Injectable()
export class EventBus {
  private readonly logger = new Logger('EventBus');
  private readonly subject = new Subject<KernelEvent>();
  /**
   * Every event, raw, remote ones included (the SSE stream and the webhook bell read the table on
   * every ring); services use `on`.
   */
  readonly events$: Observable<KernelEvent> = this.subject.asObservable();

  publish(event: KernelEvent): void {
    this.subject.next(event);
  }

  /**
   * Call `handler` for each event of `types` (one or several). A handler that throws or rejects
   * does not stop the others or later events: its failure is logged (event type, seq, camera,
   * the error), never swallowed. `name` says whose handler it is in that log line. Only this
   * kernel's events unless `opts.remote` (cluster: see SubscribeOptions).
   */
  on<T extends KernelEventType>(
    types: T | readonly T[],
    handler: EventHandler<TypedKernelEvent<T>>,
    name?: string,
    opts: SubscribeOptions = {},
  ): Unsubscribe {
    const wanted = new Set<string>(typeof types === 'string' ? [types] : types);
    return this.subscribe((e) => wanted.has(e.eventType), handler as EventHandler<KernelEvent>, name, opts);
  }

  /** Every event, kernel or raised by a worker (counters, triggers on worker types); failures logged. */
  onAny(handler: EventHandler<KernelEvent>, name?: string, opts: SubscribeOptions = {}): Unsubscribe {
    return this.subscribe(() => true, handler, name, opts);
  }

  private subscribe(
    wants: (e: KernelEvent) => boolean,
    handler: EventHandler<KernelEvent>,
    name: string | undefined,
    opts: SubscribeOptions,
  ): Unsubscribe {
    const sub = this.events$.subscribe((e) => {
      if ((e.remote && !opts.remote) || !wants(e)) return;
      try {
        const done = handler(e);
        if (done) done.catch((err: unknown) => this.failed(e, err, name));
      } catch (err) {
        this.failed(e, err, name);
      }
    });
    return () => sub.unsubscribe();
  }

  private failed(e: KernelEvent, err: unknown, name: string | undefined): void {
    this.logger.error(
      { event_type: e.eventType, seq: e.seq, camera_id: e.cameraId, handler: name ?? null, err },
      'event handler failed',
    );
  }
}

/** A stored event as the bus carries it. */
export function toKernelEvent(r: EventEntity): KernelEvent {
  return {
    seq: r.seq,
    id: r.id,
    cameraId: r.cameraId,
    siteId: r.siteId,
    eventType: r.eventType,
    severity: r.severity,
    timestamp: r.timestamp,
    payload: r.payload,
    createdAt: r.createdAt,
  };
}
