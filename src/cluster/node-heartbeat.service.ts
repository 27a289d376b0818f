import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { maskUrl } from '../common/redaction';
import { HeldarConfig } from '../config/heldar-config';
import { KERNEL_VERSION } from '../version';
import { NodeIdentity } from './node-identity';
import { claimVerdict, HEARTBEAT_MS, pidAlive, refusalMessage } from './nodes.logic';
import { NodesRepository } from './nodes.repository';
import { SecretCheck } from './secret-check';

/** Boot refused: another kernel holds this node id (or, on SQLite, this database file). */
export class NodeClaimRefused extends Error {
  override name = 'NodeClaimRefused';
}

/**
 * This node's row in `nodes`: claimed at boot (a second live kernel with the same id — on SQLite, any
 * second kernel on the same file — is refused with a clear message; a crashed one does not block the
 * restart), then one UPDATE every 3 s (`last_seen` on the store clock, `cameras_held`). A graceful
 * stop marks the row stopped, so the next kernel starts at once.
 */
@Injectable()
export class NodeHeartbeatService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Cluster');
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | null = null;
  private camerasHeld: () => number = () => 0;
  private claimed = false;
  private lostWarned = false;
  private settle!: { ok: (deadBoot: string | null) => void; fail: (err: unknown) => void };
  /**
   * Settles once the boot claim is decided: the boot id of the previous holder of this node id when
   * it was found dead (this host, pid gone: it can no longer act, so its leader lease may be taken at
   * once), else null. Rejects when the claim is refused.
   */
  readonly claimed$: Promise<string | null> = new Promise((ok, fail) => (this.settle = { ok, fail }));

  constructor(
    private readonly repo: NodesRepository,
    private readonly me: NodeIdentity,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    /** Always there in the application (optional for specs that build this service alone). */
    @Optional() private readonly secretCheck?: SecretCheck,
  ) {}

  /** Who holds cameras (the camera leases) reports their count here; 0 until one does. */
  provideCamerasHeld(count: () => number): void {
    this.camerasHeld = count;
  }

  async onModuleInit(): Promise<void> {
    this.claimed$.catch(() => undefined); // the refusal is thrown below; waiters see it too
    try {
      // Before the node row is written: a node with another secret key never joins.
      await this.secretCheck?.verify();
      this.settle.ok(await this.claim());
    } catch (err) {
      this.settle.fail(err);
      throw err;
    }
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    if (!this.claimed) return;
    await this.repo
      .markStopped(this.me.nodeId, this.me.bootId)
      .catch((err: unknown) => this.logger.warn({ err }, 'could not mark this node stopped'));
  }

  /**
   * Take this node's row, or refuse to start (NodeClaimRefused) while another kernel holds it. Returns
   * the boot id of a previous holder found dead on this host (else null).
   */
  async claim(): Promise<string | null> {
    const row = {
      id: this.me.nodeId,
      url: this.me.url,
      version: KERNEL_VERSION,
      capacity: this.config.nodeMaxCameras,
      camerasHeld: 0,
      bootId: this.me.bootId,
      host: this.me.host,
      pid: this.me.pid,
      stoppedAt: null,
    };
    let why: string | null = null;
    let deadBoot: string | null = null;
    // Two tries: the row may move between the read and the conditional take (a racing boot).
    for (let attempt = 0; attempt < 2 && why === null; attempt++) {
      if (await this.repo.insertIfAbsent(row)) why = 'new';
      else {
        const holder = await this.repo.get(this.me.nodeId);
        if (!holder) continue;
        const verdict = claimVerdict(holder, this.me, await this.repo.storeNow(), pidAlive);
        if (!verdict.take) throw this.refusal(verdict.holder);
        if (await this.repo.takeOver(holder.bootId, row)) {
          why = verdict.why;
          if (why === 'dead_process') deadBoot = holder.bootId;
        }
      }
    }
    if (why === null)
      throw new NodeClaimRefused(
        `node ${this.me.nodeId}: another kernel claimed this id while this one booted`,
      );
    if (this.config.isSqlite) {
      // SQLite is single-node: a kernel alive on this file under ANY node id refuses this one. Checked
      // after this row is written, so that of two kernels booting at once neither misses the other.
      const now = await this.repo.storeNow();
      for (const other of await this.repo.othersRunning(this.me.bootId)) {
        const verdict = claimVerdict(other, this.me, now, pidAlive);
        if (verdict.take) continue;
        await this.repo.markStopped(this.me.nodeId, this.me.bootId);
        throw this.refusal(verdict.holder);
      }
    }
    this.claimedAs(why);
    return deadBoot;
  }

  private refusal(holder: { pid: number; host: string }): NodeClaimRefused {
    const where = this.config.isSqlite ? this.config.sqlitePath : maskUrl(this.config.databaseUrl);
    return new NodeClaimRefused(refusalMessage(holder, this.config.isSqlite, where, this.me.nodeId));
  }

  private claimedAs(why: string): void {
    this.claimed = true;
    this.logger.log(
      `node ${this.me.nodeId} (boot ${this.me.bootId}, pid ${this.me.pid}) claimed` +
        (why === 'new' ? '' : ` (previous holder: ${why.replace('_', ' ')})`),
    );
  }

  /** One heartbeat (never two at once); a lost claim (another kernel took the id) is logged once. */
  beat(): Promise<void> {
    this.beating ??= (async () => {
      try {
        const held = await this.repo.beat(this.me.nodeId, this.me.bootId, this.camerasHeld());
        if (!held && !this.lostWarned) {
          this.lostWarned = true;
          this.logger.error(
            `node ${this.me.nodeId}: another kernel holds this node id now (it took it while this one was stopping or silent for 15 s); stop this kernel`,
          );
        }
      } catch (err) {
        this.logger.warn({ err }, 'node heartbeat failed');
      } finally {
        this.beating = null;
      }
    })();
    return this.beating;
  }
}
