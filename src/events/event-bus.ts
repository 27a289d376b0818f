import { Injectable } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';

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

/** In-process bus. Events are published only after their row is committed. */
@Injectable()
export class EventBus {
  private readonly subject = new Subject<KernelEvent>();
  readonly events$: Observable<KernelEvent> = this.subject.asObservable();

  publish(event: KernelEvent): void {
    this.subject.next(event);
  }
}
