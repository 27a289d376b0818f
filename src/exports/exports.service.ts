import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { RowRetention } from '../common/row-retention';
import { join } from 'node:path';
import { Database } from '../database/database.service';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { BadRequestError, DomainError, NotFoundError } from '../common/errors';
import { prefixedId } from '../common/ids';
import { HeldarConfig } from '../config/heldar-config';
import {
  buildClipArgs,
  buildConcatList,
  buildLiveSnapshotArgs,
  buildSnapshotAtArgs,
} from '../media/ffmpeg-args';
import { maskUrl } from '../common/redaction';
import { CamerasService } from '../cameras/cameras.service';
import { StorageAdapter } from '../media/storage.adapter';
import { ProcessRunner } from '../process/process-runner';
import { findHoles } from '../timeline/timeline-logic';
import { TimelineService } from '../timeline/timeline.service';
import { ClipEntity } from './entities/clip.entity';
import { MediaJobs } from '../media/media-jobs';

export const MAX_CLIP_SECONDS = 3600;
const CLIP_TIMEOUT_MS = 180_000;
const SNAPSHOT_TIMEOUT_MS = 20_000;

/** Clip export: stream copy of the segments covering a range, with coverage, gaps and SHA-256. */
@Injectable()
export class ExportsService implements OnModuleInit {
  private readonly logger = new Logger('Exports');

  constructor(
    private readonly timeline: TimelineService,
    private readonly cameras: CamerasService,
    private readonly jobs: MediaJobs,
    private readonly runner: ProcessRunner,
    private readonly storage: StorageAdapter,
    private readonly audit: AuditService,
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly rowRetention: RowRetention,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  onModuleInit(): void {
    this.rowRetention.register({ name: 'clips', ttl: 'clip', prune: (cutoff) => this.pruneClips(cutoff) });
  }

  /** Clips exported before `cutoffIso` (file, then row) and stray files of the clips dir as old. */
  async pruneClips(cutoffIso: string): Promise<number> {
    const dir = this.config.clipsDirAbs;
    let removed = 0;
    for (;;) {
      const batch = await this.db.run((m) =>
        m
          .getRepository(ClipEntity)
          .createQueryBuilder('c')
          .select(['c.id', 'c.file'])
          .where('c.created_at < :cutoffIso', { cutoffIso })
          .orderBy('c.created_at', 'ASC')
          .limit(500)
          .getMany(),
      );
      if (batch.length === 0) break;
      for (const c of batch) await this.storage.remove(join(dir, c.file));
      await this.db.run((m) => m.getRepository(ClipEntity).delete(batch.map((c) => c.id)));
      removed += batch.length;
      if (batch.length < 500) break;
    }
    const cutoffMs = Date.parse(cutoffIso);
    const known = new Set(
      (await this.db.run((m) => m.getRepository(ClipEntity).find({ select: { file: true } }))).map(
        (c) => c.file,
      ),
    );
    for (const f of await this.storage.listFiles(dir)) {
      if (f.mtimeMs < cutoffMs && !known.has(f.name)) await this.storage.remove(join(dir, f.name));
    }
    return removed;
  }

  async clip(principal: Principal, cameraId: string, from: string, to: string): Promise<ClipEntity> {
    const fromMs = Date.parse(from);
    const toMs = Date.parse(to);
    if (!(toMs > fromMs)) throw new BadRequestError('to must be after from', 'VALIDATION_FAILED');
    if (toMs - fromMs > MAX_CLIP_SECONDS * 1000) {
      throw new BadRequestError(`a clip covers at most ${MAX_CLIP_SECONDS} s`, 'VALIDATION_FAILED');
    }
    const fromIso = new Date(fromMs).toISOString();
    const toIso = new Date(toMs).toISOString();
    const segs = await this.timeline.segmentsForExport(cameraId, fromIso, toIso);
    if (segs.length === 0) throw new NotFoundError('nothing was recorded in that range', 'NO_FOOTAGE');

    return this.jobs.run(async () => {
      const id = prefixedId('clip_');
      await this.storage.ensureDir(this.config.clipsDirAbs);
      const list = join(this.config.clipsDirAbs, `${id}.txt`);
      const out = join(this.config.clipsDirAbs, `${id}.mp4`);
      const ids = segs.map((s) => s.id);
      await this.timeline.lockForRead(ids, true);
      try {
        await this.storage.writeText(list, buildConcatList(segs.map((s) => s.file)));
        const firstStart = Date.parse(segs[0].startTime);
        const res = await this.runner.runToCompletion(
          this.config.ffmpegBin,
          buildClipArgs(list, (fromMs - firstStart) / 1000, (toMs - fromMs) / 1000, out),
          { timeoutMs: CLIP_TIMEOUT_MS, maxOutputBytes: 64 * 1024 },
        );
        const size = await this.storage.size(out);
        if (res.code !== 0 || res.timedOut || !size) {
          await this.storage.remove(out);
          this.logger.error(
            { cameraId, code: res.code, timedOut: res.timedOut, stderr: res.stderr },
            'clip export failed',
          );
          throw new DomainError(
            500,
            'EXPORT_FAILED',
            res.timedOut ? 'the export took too long' : 'the export failed',
          );
        }
        // Coverage with a 1 s tolerance (segment edges are keyframe-aligned).
        const spans = segs.map((s) => ({ startMs: Date.parse(s.startTime), endMs: Date.parse(s.endTime) }));
        const holes = findHoles(spans, fromMs, toMs, 1000);
        const missing = holes.reduce((sum, h) => sum + (h.endMs - h.startMs), 0);
        const row: ClipEntity = {
          id,
          cameraId,
          file: `${id}.mp4`,
          fromTime: fromIso,
          toTime: toIso,
          requestedSeconds: (toMs - fromMs) / 1000,
          coveredSeconds: Math.round((toMs - fromMs - missing) / 100) / 10,
          gaps: holes.map((h) => ({
            from: new Date(h.startMs).toISOString(),
            to: new Date(h.endMs).toISOString(),
          })),
          segmentCount: segs.length,
          sizeBytes: size,
          sha256: await this.storage.sha256(out),
          createdBy: principal.id,
          createdByName: principal.name,
          createdAt: this.clock.nowIso(),
        };
        await this.db.transaction(async (m) => {
          await m.getRepository(ClipEntity).insert({ ...row }); // a copy: PostgreSQL RETURNING writes back
          await this.audit.record(principal, 'export_clip', 'clip', id, {
            camera_id: cameraId,
            from: fromIso,
            to: toIso,
            sha256: row.sha256,
          });
        });
        return row;
      } finally {
        await this.storage.remove(list);
        await this.timeline.lockForRead(ids, false);
      }
    });
  }

  /** A JPEG: the frame recorded at `at`, or (without `at`) a live grab from the sub stream (else main). */
  async snapshot(cameraId: string, at?: string): Promise<Buffer> {
    let args: (out: string) => string[];
    let lockIds: string[] = [];
    if (at) {
      const atIso = new Date(at).toISOString();
      const seg = await this.timeline.segmentAt(cameraId, atIso);
      if (!seg) throw new NotFoundError('no footage at that time', 'NO_FOOTAGE');
      lockIds = [seg.id];
      args = (out) =>
        buildSnapshotAtArgs(seg.file, (Date.parse(atIso) - Date.parse(seg.startTime)) / 1000, out);
    } else {
      const url = await this.cameras.getLiveUrl(cameraId);
      if (!url) throw new BadRequestError(`camera \`${cameraId}\` has no stream URL`, 'NO_STREAM_URL');
      args = (out) => buildLiveSnapshotArgs(url, out);
    }
    return this.jobs.run(async () => {
      const dir = join(this.config.dataDirAbs, 'tmp');
      await this.storage.ensureDir(dir);
      const out = join(dir, `${prefixedId('snap_')}.jpg`);
      await this.timeline.lockForRead(lockIds, true);
      try {
        const res = await this.runner.runToCompletion(this.config.ffmpegBin, args(out), {
          timeoutMs: SNAPSHOT_TIMEOUT_MS,
          maxOutputBytes: 16 * 1024,
        });
        const size = await this.storage.size(out);
        if (res.code !== 0 || res.timedOut || !size) {
          const detail = maskUrl(res.stderr.trim().split('\n').pop() ?? '');
          if (at) throw new NotFoundError('no decodable frame at that time', 'NO_FOOTAGE');
          throw new DomainError(
            502,
            'CAMERA_UNREACHABLE',
            `no frame from the camera${detail ? `: ${detail}` : ''}`,
          );
        }
        return await this.storage.read(out);
      } finally {
        await this.storage.remove(out);
        await this.timeline.lockForRead(lockIds, false);
      }
    });
  }

  getAll(cameraIds: readonly string[] | null, limit: number): Promise<ClipEntity[]> {
    return this.db.run((m) => {
      if (cameraIds && cameraIds.length === 0) return Promise.resolve([]);
      const qb = m
        .getRepository(ClipEntity)
        .createQueryBuilder('c')
        .orderBy('c.created_at', 'DESC')
        .limit(limit);
      if (cameraIds) qb.where('c.camera_id IN (:...cameraIds)', { cameraIds: [...cameraIds] });
      return qb.getMany();
    });
  }

  get(id: string): Promise<ClipEntity | null> {
    return this.db.run((m) => m.getRepository(ClipEntity).findOneBy({ id }));
  }

  getByFile(file: string): Promise<ClipEntity | null> {
    return this.db.run((m) => m.getRepository(ClipEntity).findOneBy({ file }));
  }
}
