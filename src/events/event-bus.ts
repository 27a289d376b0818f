import { Injectable, Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
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
}

/** A kernel event of type `T`, with that type's payload. */
export type TypedKernelEvent<T extends KernelEventType> = {
  [K in T]: Omit<KernelEvent, 'eventType' | 'payload'> & { eventType: K; payload: KernelEventPayloads[K] };
}[T];

/** A subscriber: it may be async; a throw or a rejection is logged with the event's type. */
export type EventHandler<E> = (event: E) => void | Promise<void>;

/** Ends a subscription (call it in onModuleDestroy / onApplicationShutdown). */
export type Unsubscribe = () => void;

/** In-process bus. Events are published only after their row is committed. */
@Injectable()
export class EventBus {
  private readonly logger = new Logger('EventBus');
  private readonly subject = new Subject<KernelEvent>();
  /** Every event, raw (the SSE stream and webhook bell need all of them); services use `on`. */
  readonly events$: Observable<KernelEvent> = this.subject.asObservable();

  publish(event: KernelEvent): void {
    this.subject.next(event);
  }

  /**
   * Call `handler` for each event of `types` (one or several). A handler that throws or rejects
   * does not stop the others or later events: its failure is logged (event type, seq, camera,
   * the error), never swallowed. `name` says whose handler it is in that log line.
   */
  on<T extends KernelEventType>(
    types: T | readonly T[],
    handler: EventHandler<TypedKernelEvent<T>>,
    name?: string,
  ): Unsubscribe {
    const wanted = new Set<string>(typeof types === 'string' ? [types] : types);
    return this.subscribe((e) => wanted.has(e.eventType), handler as EventHandler<KernelEvent>, name);
  }

  /** Every event, kernel or raised by a worker (counters, triggers on worker types); failures logged. */
  onAny(handler: EventHandler<KernelEvent>, name?: string): Unsubscribe {
    return this.subscribe(() => true, handler, name);
  }

  private subscribe(
    wants: (e: KernelEvent) => boolean,
    handler: EventHandler<KernelEvent>,
    name: string | undefined,
  ): Unsubscribe {
    const sub = this.events$.subscribe((e) => {
      if (!wants(e)) return;
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
