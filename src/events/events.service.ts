import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { uuidv7 } from '../common/ids';
import { DatabaseService } from '../database/database.service';
import { EventBus, type KernelEvent, toKernelEvent } from './event-bus';
import { EventHorizon } from './event-horizon';
import { EventRelay } from './event-relay';
import {
  KERNEL_EVENT_TYPES,
  type KernelEventPayloads,
  type KernelEventType,
  type Severity,
} from './event-types';
import { type EventQuery, EventsRepository } from './events.repository';

interface EmitBase {
  severity?: Severity;
  cameraId?: string | null;
  siteId?: string | null;
  /** When it happened (defaults to now). */
  timestamp?: string;
}

/** A kernel event to emit: a registered type with its payload (optional when it has none). */
export type EmitEvent<T extends KernelEventType = KernelEventType> = {
  [K in T]: EmitBase & { type: K } & (Record<string, never> extends KernelEventPayloads[K]
      ? { payload?: KernelEventPayloads[K] }
      : { payload: KernelEventPayloads[K] });
}[T];

/** An event raised from outside the kernel (an AI worker's type, already refused if reserved). */
export interface ExternalEvent extends EmitBase {
  type: string;
  payload?: Record<string, unknown>;
}

@Injectable()
export class EventsService {
  constructor(
    private readonly repo: EventsRepository,
    private readonly bus: EventBus,
    private readonly db: DatabaseService,
    private readonly clock: Clock,
    private readonly horizon: EventHorizon,
    private readonly relay: EventRelay,
  ) {}

  /**
   * Persist a kernel event and publish it on the bus once committed (inside a transaction: after
   * it). Only registered types compile (`KERNEL_EVENT_REGISTRY`), each with its payload.
   */
  emit<T extends KernelEventType>(e: EmitEvent<T>): Promise<KernelEvent> {
    return this.emitExternal(e as ExternalEvent);
  }

  /** Persist and publish an event of a type from outside the kernel (an AI worker's). */
  async emitExternal(e: ExternalEvent): Promise<KernelEvent> {
    const now = this.clock.nowIso();
    const id = uuidv7();
    // Cluster (PostgreSQL): known as this kernel's before its row can be read back by the relay.
    this.relay.writing(id);
    const row = await this.repo
      .insert({
        id,
        cameraId: e.cameraId ?? null,
        siteId: e.siteId ?? null,
        eventType: e.type,
        severity: e.severity ?? 'info',
        timestamp: e.timestamp ?? now,
        payload: e.payload ?? {},
        createdAt: now,
      })
      .catch((err: unknown) => {
        this.relay.dropped(id);
        throw err;
      });
    this.relay.wrote(id, row.seq);
    const event = toKernelEvent(row);
    this.db.afterCommit(() => this.bus.publish(event));
    return event;
  }

  /**
   * With `sinceSeq` (a cursor's read): only events below the visibility horizon, so a cursor moved
   * to the last one returned never passes an event still to commit (see EventHorizon).
   */
  async list(q: EventQuery): Promise<KernelEvent[]> {
    // `untilSeq` given: the caller read the horizon itself (a stream paging up to one check).
    if (q.sinceSeq !== undefined && q.untilSeq === undefined && this.horizon.bounded) {
      const until = await this.horizon.settled();
      if (until <= q.sinceSeq) return [];
      q = { ...q, untilSeq: until };
    }
    return (await this.repo.find(q)).map(toKernelEvent);
  }

  /**
   * Every event after `seq`, ascending, at most `limit` (a cursor's read: no filter, cheapest
   * path), below the visibility horizon.
   */
  async after(seq: number, limit: number): Promise<KernelEvent[]> {
    const until = this.horizon.bounded ? await this.horizon.settled() : undefined;
    if (until !== undefined && until <= seq) return [];
    return (await this.repo.after(seq, limit, until)).map(toKernelEvent);
  }

  /** Events by seq (those still kept), in seq order. */
  async listBySeqs(seqs: number[]): Promise<KernelEvent[]> {
    return (await this.repo.bySeqs(seqs)).map(toKernelEvent).sort((a, b) => a.seq - b.seq);
  }

  /** The newest seq (0 when there is none). */
  maxSeq(): Promise<number> {
    return this.repo.maxSeq();
  }

  async listTypes(): Promise<
    Array<{ event_type: string; description: string; source: 'kernel' | 'observed' }>
  > {
    const known = Object.entries(KERNEL_EVENT_TYPES).map(([event_type, description]) => ({
      event_type,
      description,
      source: 'kernel' as const,
    }));
    const seen = (await this.repo.distinctTypes(500))
      .filter((t) => !(t in KERNEL_EVENT_TYPES))
      .map((event_type) => ({ event_type, description: 'Observed at runtime', source: 'observed' as const }));
    return [...known, ...seen];
  }
}
