import { Inject, Injectable, Optional } from '@nestjs/common';
import { distinctUntilChanged, type Observable, Subject, type Subscription } from 'rxjs';
import { HeldarConfig } from '../config/heldar-config';

/** What decides leadership in a cluster (the leader lease, src/cluster/leader.service.ts). */
export interface LeadershipSource {
  isLeader(): boolean;
  /** Every change of `isLeader()`, as it happens. */
  readonly changes$: Observable<boolean>;
}

/**
 * Whether this node runs the cluster's singletons (webhook dispatch, row TTLs, module health …,
 * `Loops.start(…, { scope: 'cluster' })`). SQLite is single-node: always the leader. On PostgreSQL
 * nothing is leader until the leader lease is attached (ClusterModule, at init), then the lease
 * decides; `changes$` emits each gain (true) and loss (false).
 */
@Injectable()
export class Leadership {
  private source: LeadershipSource | null = null;
  private sub: Subscription | null = null;
  private readonly single: boolean;
  private readonly subject = new Subject<boolean>();
  readonly changes$: Observable<boolean> = this.subject.pipe(distinctUntilChanged());

  constructor(@Optional() @Inject(HeldarConfig) config?: HeldarConfig) {
    this.single = config?.isSqlite ?? true;
  }

  isLeader(): boolean {
    if (this.single) return true;
    return this.source?.isLeader() ?? false;
  }

  /** The cluster's election takes over (PostgreSQL); a gain it already holds is announced at once. */
  attach(source: LeadershipSource): void {
    if (this.single) return;
    this.sub?.unsubscribe();
    this.source = source;
    this.sub = source.changes$.subscribe((v) => this.subject.next(v));
    if (source.isLeader()) this.subject.next(true);
  }

  detach(): void {
    this.sub?.unsubscribe();
    this.sub = null;
    if (this.source?.isLeader()) this.subject.next(false);
    this.source = null;
  }
}
