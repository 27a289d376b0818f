import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { Clock } from '../common/clock';
import { Loops } from '../common/loops';
import { AiRepository } from './ai.repository';
import { DETECTION_CONSUMERS, type DetectionBatch, type DetectionConsumer } from './detection-consumer';

/** What `fanOutInUnit` leaves for after its unit commits. */
export interface PendingFanOut {
  batch: DetectionBatch;
  seq: number | null;
  complete: boolean;
  /** Claimed in the unit, consumed after its commit. */
  later: DetectionConsumer[];
}

/** Replay committed batches whose fan-out did not complete, this long after their commit. */
const REPLAY_AFTER_MS = 10_000;
const REPLAY_BATCH = 200;
const REPLAY_EVERY_MS = 15_000;

/**
 * Hands each committed batch to every interested consumer: claim (`consumer_fanout`), then
 * consume; a consumer that throws gives its claim back so the replay loop retries it. Batches
 * whose fan-out did not complete (a crash between commit and consume) are replayed from the
 * outbox. Consumers are collected from every module's `DETECTION_CONSUMERS` provider.
 */
@Injectable()
export class FanoutService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Fanout');
  private consumers: DetectionConsumer[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly repo: AiRepository,
    private readonly loops: Loops,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    const found = this.discovery
      .getProviders()
      .filter((w) => w.token === DETECTION_CONSUMERS && w.instance)
      .map((w) => w.instance as DetectionConsumer);
    const names = new Set<string>();
    for (const c of found) {
      if (names.has(c.name)) throw new Error(`two detection consumers are named \`${c.name}\``);
      names.add(c.name);
    }
    this.consumers = found;
    this.logger.log(`detection consumers: ${found.map((c) => c.name).join(', ') || 'none'}`);
    this.loops.start('fanout_replay', REPLAY_EVERY_MS, () => this.replay().then(() => undefined), {
      scope: 'cluster',
    });
  }

  get names(): string[] {
    return this.consumers.map((c) => c.name);
  }

  /**
   * True when every interested consumer has the batch (claimed now or before). One group-commit
   * unit holds the claims, the transactional consumers' writes and, when they are all the batch
   * needs, the outbox row's `fanned_out_at` (`seq`); other consumers run after that commit.
   */
  async fanOut(batch: DetectionBatch, seq: number | null = null): Promise<boolean> {
    const pending = await this.repo.fanOutUnit(() => this.fanOutInUnit(batch, seq));
    return this.fanOutAfterCommit(pending);
  }

  /**
   * The transactional half of `fanOut`, inside the caller's group-commit unit (ingest runs it in
   * the unit that writes the batch, so a batch costs one commit, not two): the claims, the
   * transactional consumers' writes (each in its own savepoint) and, when they are all the batch
   * needs, `fanned_out_at`. Hand the result to `fanOutAfterCommit` once the unit has committed.
   */
  async fanOutInUnit(batch: DetectionBatch, seq: number | null): Promise<PendingFanOut> {
    const interested = this.consumers.filter((c) => c.interestedIn(batch.taskType));
    const now = this.clock.nowIso();
    const later: DetectionConsumer[] = []; // claimed in the unit, consumed after its commit
    let complete = true;
    for (const c of interested) {
      let stage: 'claim' | 'consume' = 'claim';
      try {
        await this.repo.isolated(async () => {
          if (
            batch.frameKey !== null &&
            !(await this.repo.claim(c.name, batch.cameraId, batch.frameKey, now))
          )
            return; // delivered before
          if (!c.transactional) {
            later.push(c);
            return;
          }
          stage = 'consume';
          await c.consume(batch);
        });
      } catch (err) {
        complete = false;
        if (stage === 'claim') this.logger.error({ err, consumer: c.name }, 'fan-out claim failed');
        else this.failed(err, c, batch);
      }
    }
    if (complete && later.length === 0 && seq !== null) await this.repo.markFanned(seq, now);
    return { batch, seq, complete, later };
  }

  /** The consumers that run outside a transaction, after the unit of `fanOutInUnit` committed. */
  async fanOutAfterCommit(pending: PendingFanOut): Promise<boolean> {
    const { batch, seq, later } = pending;
    let complete = pending.complete;
    if (later.length === 0) return complete;
    for (const c of later) {
      try {
        await c.consume(batch);
      } catch (err) {
        complete = false;
        this.failed(err, c, batch);
        if (batch.frameKey !== null)
          await this.repo.unclaim(c.name, batch.cameraId, batch.frameKey).catch(() => undefined);
      }
    }
    if (complete && seq !== null) await this.repo.markFanned(seq, this.clock.nowIso());
    return complete;
  }

  private failed(err: unknown, c: DetectionConsumer, batch: DetectionBatch): void {
    this.logger.error(
      { err, consumer: c.name, camera: batch.cameraId },
      'consumer failed; the batch will be replayed',
    );
  }

  /** One replay pass; returns how many batches completed. */
  async replay(): Promise<number> {
    const before = new Date(this.clock.nowMs() - REPLAY_AFTER_MS).toISOString();
    let done = 0;
    for (const o of await this.repo.unfanned(before, REPLAY_BATCH)) {
      const rows = await this.repo.detectionsOfFrame(o.cameraId, o.frameId!);
      const complete = await this.fanOut(
        {
          cameraId: o.cameraId,
          siteId: o.siteId,
          taskType: o.taskType,
          frameKey: o.frameId,
          timestamp: o.batchTimestamp,
          detections: rows.map((d) => ({
            id: d.id,
            label: d.label,
            confidence: d.confidence,
            bbox: d.bbox,
            trackId: d.trackId,
            attributes: d.attributes,
          })),
        },
        o.seq,
      );
      if (complete) done++;
    }
    return done;
  }
}
