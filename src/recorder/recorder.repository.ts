import { IsNull } from 'typeorm';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RowRetention } from '../common/row-retention';
import { DatabaseService } from '../database/database.service';
import type { RunEndReason } from './recorder-runs';
import { CameraStatusEntity, type CameraState } from './entities/camera-status.entity';
import { RecorderRunEntity } from './entities/recorder-run.entity';

@Injectable()
export class RecorderRepository implements OnModuleInit {
  /**
   * Write-through mirror of `camera_status` (this repository is its only writer), so metrics and
   * readiness read memory instead of querying per scrape. Loaded once at boot by `loadMirror()`.
   */
  private readonly mirror = new Map<string, CameraStatusEntity>();

  constructor(
    private readonly db: DatabaseService,
    private readonly rowRetention: RowRetention,
  ) {}

  onModuleInit(): void {
    this.rowRetention.register({
      name: 'recorder_runs',
      ttl: 'audit',
      prune: (cutoff) =>
        this.db.deleteInBatches(RecorderRunEntity, 'id', 'x.ended_at IS NOT NULL AND x.ended_at < :cutoff', {
          cutoff,
        }),
    });
  }

  async loadMirror(): Promise<void> {
    this.mirror.clear();
    for (const s of await this.getStatuses()) this.mirror.set(s.cameraId, s);
  }

  /** Every camera's status as last written (no query). */
  mirrored(): CameraStatusEntity[] {
    return [...this.mirror.values()];
  }

  /** One camera's status as last written (no query). */
  mirroredStatus(cameraId: string): CameraStatusEntity | undefined {
    return this.mirror.get(cameraId);
  }

  private async remember(cameraId: string): Promise<void> {
    const s = await this.getStatus(cameraId);
    if (s) this.mirror.set(cameraId, s);
    else this.mirror.delete(cameraId);
  }

  getStatus(cameraId: string): Promise<CameraStatusEntity | null> {
    return this.db.run((m) => m.getRepository(CameraStatusEntity).findOneBy({ cameraId }));
  }

  getStatuses(ids?: readonly string[]): Promise<CameraStatusEntity[]> {
    return this.db.run((m) => {
      const qb = m.getRepository(CameraStatusEntity).createQueryBuilder('s').orderBy('s.camera_id', 'ASC');
      if (ids) {
        if (ids.length === 0) return Promise.resolve([]);
        qb.where('s.camera_id IN (:...ids)', { ids: [...ids] });
      }
      return qb.getMany();
    });
  }

  /** Upsert the status row with `patch` (creating it as `unknown` first when missing). */
  async patchStatus(cameraId: string, patch: Partial<CameraStatusEntity>, now: string): Promise<void> {
    await this.db.transaction(async (m) => {
      const repo = m.getRepository(CameraStatusEntity);
      const existing = await repo.findOneBy({ cameraId });
      if (!existing) {
        await repo.insert({
          cameraId,
          state: 'unknown',
          lastSegmentAt: null,
          lastStartedAt: null,
          reconnectCount: 0,
          segmentsWritten: 0,
          fpsObserved: null,
          bitrateKbps: null,
          lastError: null,
          pid: null,
          ...patch,
          updatedAt: now,
        });
      } else {
        await repo.update({ cameraId }, { ...patch, updatedAt: now });
      }
    });
    await this.remember(cameraId);
  }

  async setState(cameraId: string, state: CameraState, now: string, extra: Partial<CameraStatusEntity> = {}) {
    await this.patchStatus(cameraId, { state, ...extra }, now);
  }

  async bumpReconnect(cameraId: string, lastError: string | null, now: string): Promise<void> {
    await this.db.run((m) =>
      m
        .createQueryBuilder()
        .update(CameraStatusEntity)
        .set({
          state: 'offline',
          pid: null,
          lastError,
          updatedAt: now,
          reconnectCount: () => 'reconnect_count + 1',
        })
        .where('camera_id = :cameraId', { cameraId })
        .execute(),
    );
    await this.remember(cameraId);
  }

  async segmentIndexed(
    cameraId: string,
    s: {
      endIso: string;
      bitrateKbps: number | null;
      fps: number | null;
      markRecording: boolean;
      count?: number;
    },
    now: string,
  ): Promise<void> {
    await this.db.run((m) =>
      m
        .createQueryBuilder()
        .update(CameraStatusEntity)
        .set({
          ...(s.markRecording ? { state: 'recording' as const, lastError: null } : {}),
          lastSegmentAt: s.endIso,
          bitrateKbps: s.bitrateKbps,
          fpsObserved: s.fps,
          updatedAt: now,
          segmentsWritten: () => `segments_written + ${Math.max(1, Math.floor(s.count ?? 1))}`,
        })
        .where('camera_id = :cameraId', { cameraId })
        .execute(),
    );
    await this.remember(cameraId);
  }

  async openRun(cameraId: string, startedAt: string, nodeId: string | null = null): Promise<number> {
    return this.db.run(async (m) => {
      const res = await m
        .getRepository(RecorderRunEntity)
        .insert({ cameraId, startedAt, endedAt: null, endReason: null, detail: null, nodeId });
      return Number(res.identifiers[0].id);
    });
  }

  async closeRun(id: number, endedAt: string, endReason: RunEndReason, detail: string | null): Promise<void> {
    await this.db.run((m) =>
      m.getRepository(RecorderRunEntity).update({ id, endedAt: IsNull() }, { endedAt, endReason, detail }),
    );
  }

  /** Runs left open by a kernel that died: they ended when it went down. `nodeId` (cluster): only
   * that node's runs (and runs from before the cluster, without a node); the others' are live. */
  async closeDanglingRuns(endedAt: string, nodeId: string | null = null): Promise<number> {
    return this.db.run(async (m) => {
      const qb = m
        .createQueryBuilder()
        .update(RecorderRunEntity)
        .set({ endedAt, endReason: 'server_down' })
        .where('ended_at IS NULL');
      if (nodeId !== null) qb.andWhere('(node_id = :nodeId OR node_id IS NULL)', { nodeId });
      const res = await qb.execute();
      return res.affected ?? 0;
    });
  }

  /**
   * A camera taken over from a node whose lease expired: its open runs (that node's recorder, cut
   * by a crash or a pause) end now as `node_failover`; when none is open (that node had already
   * stopped it, e.g. fenced), a zero-length `node_failover` run marks the takeover. Either way the
   * hole up to this node's first segment is explained as a failover.
   */
  async markFailover(cameraId: string, at: string, nodeId: string | null): Promise<void> {
    await this.db.transaction(async (m) => {
      const res = await m
        .createQueryBuilder()
        .update(RecorderRunEntity)
        .set({ endedAt: at, endReason: 'node_failover' })
        .where('camera_id = :cameraId AND ended_at IS NULL', { cameraId })
        .execute();
      if ((res.affected ?? 0) > 0) return;
      await m.getRepository(RecorderRunEntity).insert({
        cameraId,
        startedAt: at,
        endedAt: at,
        endReason: 'node_failover',
        detail: null,
        nodeId,
      });
    });
  }

  /** Runs of a camera that ended inside [from, to]. */
  /** The camera's runs that ended in [fromIso, toIso], ascending by end (the gaps read: a
   * prepared statement, see `DatabaseService.select`). */
  async runsEndedBetween(cameraId: string, fromIso: string, toIso: string): Promise<RecorderRunEntity[]> {
    const rows = await this.db.select<{
      id: number;
      camera_id: string;
      started_at: string;
      ended_at: string | null;
      end_reason: RecorderRunEntity['endReason'];
      detail: string | null;
    }>(
      `SELECT id, camera_id, started_at, ended_at, end_reason, detail FROM recorder_runs
       WHERE camera_id = ? AND ended_at >= ? AND ended_at <= ? ORDER BY ended_at ASC`,
      [cameraId, fromIso, toIso],
    );
    return rows.map((r) => ({
      id: r.id,
      cameraId: r.camera_id,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      endReason: r.end_reason,
      detail: r.detail,
    }));
  }

  async deleteCamera(cameraId: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.getRepository(CameraStatusEntity).delete({ cameraId });
      await m.getRepository(RecorderRunEntity).delete({ cameraId });
    });
    this.mirror.delete(cameraId);
  }
}
