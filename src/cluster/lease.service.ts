import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { Subject } from 'rxjs';
import { CamerasService } from '../cameras/cameras.service';
import { Loops } from '../common/loops';
import { HeldarConfig } from '../config/heldar-config';
import { EventBus, type Unsubscribe } from '../events/event-bus';
import {
  camerasToTake,
  DEFAULT_LEASE_TIMING,
  fenceDeadline,
  fencedOut,
  type LeaseTiming,
  type OwnershipChange,
  pickCameras,
} from './camera-leases.logic';
import {
  CameraOwnership,
  LEASE_TIMING,
  LIVE_NODE_COUNT,
  type LiveNodeCount,
  MonotonicClock,
} from './camera-leases.ownership';
import { CameraLeasesRepository } from './camera-leases.repository';

/**
 * Camera leases of this node (issue 18). On PostgreSQL, every 3 s: drop what the monotonic clock
 * can no longer prove, renew every lease in ONE statement, then release leases of cameras that no
 * longer record and take free or expired ones (`camerasToTake`) in one transaction. A fence timer
 * drops leases at their deadline even between rounds (a node resumed after a pause drops first).
 * On SQLite it owns every camera and reads nothing.
 */
@Injectable()
export class LeaseService
  extends CameraOwnership
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('Leases');
  /** Held cameras → monotonic send time of the statement that last confirmed the lease. */
  private readonly held = new Map<string, number>();
  /** Cameras lost (fenced, or not renewed) → monotonic instant their lease stopped being proven. */
  private readonly lostAt = new Map<string, number>();
  private readonly changes = new Subject<OwnershipChange>();
  readonly changes$ = this.changes.asObservable();
  private readonly timing: LeaseTiming;
  private fenceTimer?: NodeJS.Timeout;
  private stopped = false;
  private released = false;
  /** The round running now (rounds never overlap), and whether another was asked for meanwhile. */
  private running: Promise<void> | null = null;
  private again = false;
  private off?: Unsubscribe;

  constructor(
    private readonly repo: CameraLeasesRepository,
    private readonly cameras: CamerasService,
    private readonly loops: Loops,
    private readonly mono: MonotonicClock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    @Optional() @Inject(LIVE_NODE_COUNT) private readonly liveNodes?: LiveNodeCount,
    @Optional() @Inject(LEASE_TIMING) timing?: LeaseTiming,
    @Optional() private readonly bus?: EventBus,
  ) {
    super();
    this.timing = timing ?? DEFAULT_LEASE_TIMING;
  }

  /** A single SQLite node owns everything. */
  get clustered(): boolean {
    return !this.config.isSqlite;
  }

  owns(cameraId: string): boolean {
    if (!this.clustered) return true;
    const sent = this.held.get(cameraId);
    return sent !== undefined && this.mono.now() < this.deadline(sent);
  }

  hasRoom(): boolean {
    return this.held.size < this.config.nodeMaxCameras;
  }

  async unleased(cameraIds: readonly string[]): Promise<string[]> {
    if (!this.clustered || cameraIds.length === 0) return [];
    const owners = await this.repo.owners();
    return cameraIds.filter((id) => !owners.has(id));
  }

  unprovenForMs(cameraId: string): number | null {
    if (!this.clustered) return null;
    const now = this.mono.now();
    const sent = this.held.get(cameraId);
    // Still held, but past its deadline: the fence has not run yet (a node just resumed).
    const ended = sent === undefined ? this.lostAt.get(cameraId) : this.deadline(sent);
    return ended === undefined || now < ended ? null : now - ended;
  }

  /** The cameras this node holds (sorted). */
  heldCameras(): string[] {
    return [...this.held.keys()].sort();
  }

  onApplicationBootstrap(): void {
    if (!this.clustered) return;
    this.loops.start('camera_leases', this.timing.renewMs, () => this.round());
    // A camera created, enabled or deleted (here or on another node: a round is safe to repeat on
    // every node) is taken or released at once, not at the next tick.
    this.off = this.bus?.on(
      ['camera_created', 'camera_updated', 'camera_deleted'],
      () => void this.round(),
      'camera_leases',
      { remote: true },
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.off?.();
    this.stopped = true;
    clearTimeout(this.fenceTimer);
    await this.loops.stop('camera_leases');
  }

  /** One round: fence, renew, release and acquire. Never throws (a failed statement confirms
   * nothing). Rounds never overlap: one asked for while another runs follows it. */
  async round(): Promise<void> {
    if (!this.clustered || this.stopped || this.released) return;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.roundOnce();
      } while (this.again && !this.stopped && !this.released);
    })().finally(() => (this.running = null));
    return this.running;
  }

  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async roundOnce(): Promise<void> {
    this.fence();
    const lost: string[] = [];
    const gained: string[] = [];
    const failover: string[] = [];
    const renewSent = this.mono.now();
    try {
      const renewed = new Set(await this.repo.renew(this.config.nodeId, this.timing.ttlMs));
      for (const [id, sent] of [...this.held]) {
        if (renewed.has(id)) this.held.set(id, renewSent);
        else {
          this.held.delete(id);
          // Someone else holds it (or it expired): no longer ours from now, or from its deadline.
          this.lostAt.set(id, Math.min(this.deadline(sent), renewSent));
          lost.push(id);
        }
      }
      // Fenced a moment ago yet still ours on the database (a pause shorter than the TTL): this
      // renewal proves them again, so they are taken back (never left renewed but unrecorded).
      for (const id of renewed) {
        if (this.held.has(id)) continue;
        this.held.set(id, renewSent);
        this.lostAt.delete(id);
        gained.push(id);
      }
    } catch (err) {
      this.logger.warn({ err }, 'lease renewal failed; leases lapse by their deadline');
    }
    try {
      const should = this.config.recorderEnabled
        ? (await this.cameras.listPolicies()).filter((c) => c.enabled && c.recordEnabled).map((c) => c.id)
        : [];
      const live = this.liveNodes ? await this.liveNodes() : null;
      const sent = this.mono.now();
      const out = await this.repo.acquire(this.config.nodeId, should, this.timing.ttlMs, (s) =>
        pickCameras(
          s.free,
          camerasToTake({
            capacity: this.config.nodeMaxCameras,
            held: s.held,
            total: s.total,
            free: s.free.length,
            liveNodes: live ?? s.holders,
            leastLoaded: s.leastLoaded,
          }),
          this.config.nodeId,
        ),
      );
      for (const id of out.released) if (this.held.delete(id)) lost.push(id);
      for (const t of out.taken) {
        if (!this.held.has(t.cameraId)) gained.push(t.cameraId);
        this.lostAt.delete(t.cameraId);
        this.held.set(t.cameraId, sent);
        if (t.failover) failover.push(t.cameraId);
      }
    } catch (err) {
      this.logger.warn({ err }, 'camera lease acquisition failed');
    }
    if (gained.length > 0 || lost.length > 0) {
      this.logger.log({ gained, lost, failover, held: this.held.size }, 'camera ownership changed');
      this.changes.next({ gained, lost, failover });
    }
    this.armFence();
  }

  /** Drop every lease whose deadline passed on the monotonic clock (its recorder must stop now). */
  fence(): void {
    const out = fencedOut(this.held, this.mono.now(), this.timing);
    if (out.length === 0) return;
    for (const id of out) {
      this.lostAt.set(id, this.deadline(this.held.get(id)!));
      this.held.delete(id);
    }
    this.logger.warn({ cameras: out }, 'camera leases not renewed in time: their recorders stop');
    this.changes.next({ gained: [], lost: out, failover: [] });
  }

  private deadline(sentMs: number): number {
    return fenceDeadline(sentMs, this.timing.ttlMs, this.timing.marginMs);
  }

  private armFence(): void {
    clearTimeout(this.fenceTimer);
    if (this.stopped || this.held.size === 0) return;
    const next = Math.min(...[...this.held.values()].map((s) => this.deadline(s)));
    this.fenceTimer = setTimeout(
      () => {
        this.fence();
        this.armFence();
      },
      Math.max(0, next - this.mono.now()),
    );
    this.fenceTimer.unref();
  }

  async releaseAll(): Promise<void> {
    if (!this.clustered || this.released) return;
    this.released = true;
    this.stopped = true;
    clearTimeout(this.fenceTimer);
    await this.loops.stop('camera_leases');
    await this.running; // a round in flight could take a camera after the DELETE
    const lost = [...this.held.keys()];
    this.held.clear();
    try {
      const n = await this.repo.releaseAll(this.config.nodeId);
      this.logger.log({ released: n }, 'camera leases released');
    } catch (err) {
      this.logger.warn({ err }, 'could not release camera leases; they expire within the TTL');
    }
    if (lost.length > 0) this.changes.next({ gained: [], lost, failover: [] });
  }
}
