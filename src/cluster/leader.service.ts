import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { distinctUntilChanged, type Observable, Subject } from 'rxjs';
import { Leadership, type LeadershipSource } from '../common/leadership';
import {
  actsAsLeader,
  afterAttempt,
  LEADER_TIMING,
  type LeaseState,
  type LeaseTiming,
  NO_LEASE,
  stepDownAt,
} from './leader-lease';
import { NodeHeartbeatService } from './node-heartbeat.service';
import { NodeIdentity } from './node-identity';
import { NodesRepository } from './nodes.repository';

/** The monotonic clock the fencing runs on (ms); injectable so tests can pause or jump time. */
export const MONOTONIC = Symbol('MONOTONIC');
export const LEASE_TIMING = Symbol('LEASE_TIMING');

/**
 * The leader lease (PostgreSQL): one row in `cluster_leader`, taken when free or expired on the
 * store clock and renewed every 3 s for 15 s. Not a session advisory lock: a paused (SIGSTOP)
 * leader keeps its connection, and would keep such a lock forever. The node acts as leader only
 * while (monotonic now − send time of its last granted renewal) < TTL − 3 s, and steps down at
 * once otherwise, before the lease can expire and another node take it. A graceful stop releases
 * it. SQLite is single-node: nothing runs, `Leadership` says leader.
 */
@Injectable()
export class LeaderService implements LeadershipSource, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Cluster');
  private state: LeaseState = NO_LEASE;
  private announced = false;
  private renewing: Promise<void> | null = null;
  private renewTimer: NodeJS.Timeout | undefined;
  private stepDownTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly subject = new Subject<boolean>();
  readonly changes$: Observable<boolean> = this.subject.pipe(distinctUntilChanged());
  private readonly mono: () => number;
  private readonly timing: LeaseTiming;

  constructor(
    private readonly repo: NodesRepository,
    private readonly me: NodeIdentity,
    @Optional() private readonly leadership?: Leadership,
    @Optional() @Inject(MONOTONIC) mono?: () => number,
    @Optional() @Inject(LEASE_TIMING) timing?: LeaseTiming,
    @Optional() private readonly heartbeat?: NodeHeartbeatService,
  ) {
    this.mono = mono ?? (() => performance.now());
    this.timing = timing ?? LEADER_TIMING;
  }

  async onModuleInit(): Promise<void> {
    if (this.repo.isSqlite) return;
    // This node's previous life crashed (kill -9) holding the lease: it cannot act any more, so the
    // restart takes the lease at once instead of waiting out its TTL.
    const deadBoot = (await this.heartbeat?.claimed$) ?? null;
    if (
      deadBoot !== null &&
      (await this.repo.takeLeaderFrom(deadBoot, this.me.nodeId, this.me.bootId, this.timing.ttlMs))
    )
      this.logger.log(`node ${this.me.nodeId} took the leader lease over from its crashed previous boot`);
    // The first attempt before any module starts its loops: the leader's singletons start at boot.
    await this.renew();
    this.leadership?.attach(this);
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Renew every period (tests drive `renew()` by hand instead). */
  start(): void {
    this.renewTimer = setInterval(() => void this.renew(), this.timing.renewMs);
    this.renewTimer.unref();
  }

  /** Stop renewing, step down, release the lease (graceful stop: another node takes over at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.renewTimer);
    clearTimeout(this.stepDownTimer);
    await this.renewing;
    const held = this.state.held;
    this.state = NO_LEASE;
    this.publish();
    this.leadership?.detach();
    if (held)
      await this.repo
        .releaseLeader(this.me.bootId)
        .catch((err: unknown) => this.logger.warn({ err }, 'could not release the leader lease'));
  }

  isLeader(): boolean {
    return actsAsLeader(this.state, this.mono(), this.timing);
  }

  /** One take-or-renew attempt (never two at once). */
  renew(): Promise<void> {
    this.renewing ??= (async () => {
      const sentAt = this.mono();
      let granted: boolean | null = null;
      try {
        granted = await this.repo.takeOrRenewLeader(this.me.nodeId, this.me.bootId, this.timing.ttlMs);
      } catch (err) {
        this.logger.warn({ err }, 'leader lease renewal failed');
      } finally {
        this.renewing = null;
      }
      if (this.stopped) return;
      this.state = afterAttempt(
        this.state,
        sentAt,
        granted === null ? 'error' : granted ? 'granted' : 'refused',
      );
      this.publish();
    })();
    return this.renewing;
  }

  /** Announce a change of `isLeader()`, and step down by the monotonic clock if no renewal comes. */
  private publish(): void {
    const leader = this.isLeader();
    if (leader !== this.announced) {
      this.announced = leader;
      this.logger.log(
        leader ? `node ${this.me.nodeId} is the leader` : `node ${this.me.nodeId} stepped down`,
      );
      this.subject.next(leader);
    }
    clearTimeout(this.stepDownTimer);
    const at = stepDownAt(this.state, this.timing);
    if (leader && at !== null) {
      this.stepDownTimer = setTimeout(() => this.publish(), Math.max(0, at - this.mono()));
      this.stepDownTimer.unref();
    }
  }
}
