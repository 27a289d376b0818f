import { ExportsRepository } from './exports.repository';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RowRetention } from '../common/row-retention';
import { join } from 'node:path';
import { DatabaseService } from '../database/database.service';
import { AuditService } from '../audit/audit.service';
import { SYSTEM_PRINCIPAL, type Principal } from '../auth/principal';
import { NodeClient } from '../cluster/node-client';
import { SegmentFiles, type SegmentRef } from '../timeline/segment-files';
import { Clock } from '../common/clock';
import { BadRequestError, ConflictError, DomainError, NotFoundError } from '../common/errors';
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
import { clipQuotaBreach, clipQuotaMessage, estimateClipBytes } from './clip-quota';
import { ClipEntity } from './entities/clip.entity';
import { MediaJobs } from '../media/media-jobs';
import { loadScoped, type ScopedCaller } from '../common/validation';

export const MAX_CLIP_SECONDS = 3600;
/** The owner's route for one clip file (node-to-node; see NodeClipsController). */
export const nodeClipPath = (id: string) => `/internal/v1/clips/${encodeURIComponent(id)}`;
const CLIP_TIMEOUT_MS = 180_000;
const SNAPSHOT_TIMEOUT_MS = 20_000;

/** A clip retention may delete: not held as evidence. */
export interface PrunableClip {
  id: string;
  sizeBytes: number;
  createdAt: string;
}

/** Clip export: stream copy of the segments covering a range, with coverage, gaps and SHA-256. */
@Injectable()
export class ExportsService implements OnModuleInit {
  private readonly logger = new Logger('Exports');
  /** Bytes of the clips being exported now, by clip id (counted against the quotas until stored). */
  private readonly reserved = new Map<string, { principalId: string; bytes: number }>();

  constructor(
    private readonly timeline: TimelineService,
    private readonly cameras: CamerasService,
    private readonly jobs: MediaJobs,
    private readonly runner: ProcessRunner,
    private readonly storage: StorageAdapter,
    private readonly audit: AuditService,
    private readonly db: DatabaseService,
    private readonly repo: ExportsRepository,
    private readonly clock: Clock,
    private readonly rowRetention: RowRetention,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    private readonly segmentFiles: SegmentFiles,
    private readonly nodes: NodeClient,
  ) {}

  onModuleInit(): void {
    this.rowRetention.register({ name: 'clips', ttl: 'clip', prune: (cutoff) => this.pruneClips(cutoff) });
  }

  /** Clips exported before `cutoffIso` (file, then row) and stray files of the clips dir as old. */
  async pruneClips(cutoffIso: string): Promise<number> {
    const dir = this.config.clipsDirAbs;
    let removed = 0;
    for (;;) {
      const batch = await this.repo.expired(cutoffIso, 500);
      if (batch.length === 0) break;
      for (const c of batch) await this.storage.remove(join(dir, c.file));
      await this.repo.delete(batch.map((c) => c.id));
      removed += batch.length;
      if (batch.length < 500) break;
    }
    const cutoffMs = Date.parse(cutoffIso);
    const known = new Set(await this.repo.files());
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
    const found = await this.timeline.segmentsForExport(cameraId, fromIso, toIso);
    if (found.length === 0) throw new NotFoundError('nothing was recorded in that range', 'NO_FOOTAGE');
    // Read-lock the segments before waiting for a media slot (up to 10 s): retention may not delete
    // them meanwhile. One deleted between the read and the lock is left out of the clip.
    const ids = found.map((s) => s.id);
    const held = new Set(await this.timeline.lockForRead(ids, true));
    try {
      const segs = found.filter((s) => held.has(s.id));
      if (segs.length === 0) throw new NotFoundError('nothing was recorded in that range', 'NO_FOOTAGE');
      const estimate = estimateClipBytes(
        segs.map((s) => ({
          startMs: Date.parse(s.startTime),
          endMs: Date.parse(s.endTime),
          sizeBytes: s.sizeBytes,
        })),
        fromMs,
        toMs,
      );
      return await this.jobs.run(async () => {
        const id = prefixedId('clip_');
        await this.assertQuota(principal, estimate);
        this.reserved.set(id, { principalId: principal.id, bytes: estimate });
        try {
          return await this.exportClip(principal, id, cameraId, segs, fromMs, toMs);
        } finally {
          this.reserved.delete(id);
        }
      });
    } finally {
      await this.timeline.lockForRead([...held], false);
    }
  }

  /** Refuse a clip of `bytes` that would take its exporter or all clips past their quota (409). */
  private async assertQuota(principal: Principal, bytes: number, exceptId?: string): Promise<void> {
    const maxTotal = this.config.clipsMaxBytes;
    // With auth off every request is the system principal: only the total applies then.
    const maxMine = principal.kind === 'system' ? 0 : this.config.clipsMaxBytesPerPrincipal;
    if (maxTotal <= 0 && maxMine <= 0) return;
    const [storedTotal, storedMine] = await Promise.all([this.storedBytes(), this.storedBytes(principal.id)]);
    let pendingTotal = 0;
    let pendingMine = 0;
    for (const [id, r] of this.reserved) {
      if (id === exceptId) continue;
      pendingTotal += r.bytes;
      if (r.principalId === principal.id) pendingMine += r.bytes;
    }
    const breach = clipQuotaBreach({
      requestedBytes: bytes,
      usedTotalBytes: storedTotal + pendingTotal,
      usedByPrincipalBytes: storedMine + pendingMine,
      maxTotalBytes: maxTotal,
      maxPerPrincipalBytes: maxMine,
    });
    if (breach) throw new ConflictError(clipQuotaMessage(breach), 'CLIP_QUOTA_EXCEEDED');
  }

  /** Bytes of the stored clips (of one exporter when `createdBy` is given). */
  private async storedBytes(createdBy?: string): Promise<number> {
    return this.repo.storedBytes(createdBy);
  }

  private async exportClip(
    principal: Principal,
    id: string,
    cameraId: string,
    segs: Array<SegmentRef & { startTime: string; endTime: string }>,
    fromMs: number,
    toMs: number,
  ): Promise<ClipEntity> {
    const fromIso = new Date(fromMs).toISOString();
    const toIso = new Date(toMs).toISOString();
    await this.storage.ensureDir(this.config.clipsDirAbs);
    const list = join(this.config.clipsDirAbs, `${id}.txt`);
    const out = join(this.config.clipsDirAbs, `${id}.mp4`);
    // Segments on another node's disk (per-node storage, e.g. a range spanning a failover) are
    // copied here first: the clip is one ffmpeg run over local files either way.
    const local = await this.segmentFiles.local(principal, segs);
    try {
      await this.storage.writeText(list, buildConcatList(local.segs.map((s) => s.file)));
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
      // Stream copy cuts on keyframes: the real size may exceed the estimate. Check it again.
      try {
        await this.assertQuota(principal, size, id);
      } catch (err) {
        await this.storage.remove(out);
        throw err;
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
        evidenceLocked: false,
        // The file stays on this node's disk; another node serves it through this one.
        nodeId: this.nodes.ownRowNodeId,
      };
      await this.db.transaction(async () => {
        await this.repo.create(row);
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
      await local.release();
    }
  }

  /** Hold a clip as evidence (or release it): retention never deletes a held clip. */
  async setEvidence(principal: Principal, id: string, locked: boolean): Promise<ClipEntity> {
    return this.db.transaction(async () => {
      const clip = await this.repo.get(id);
      if (!clip) throw new NotFoundError(`clip \`${id}\` not found`, 'CLIP_NOT_FOUND');
      await this.repo.setEvidence(id, locked);
      await this.audit.record(principal, locked ? 'evidence_lock' : 'evidence_unlock', 'clip', id, {
        camera_id: clip.cameraId,
      });
      return { ...clip, evidenceLocked: locked };
    });
  }

  /** Clips retention may delete (not evidence-locked), oldest first. */
  prunableClips(limit = 5000): Promise<PrunableClip[]> {
    return this.repo.prunable(limit);
  }

  /** Bytes of all stored clips, and of the evidence-locked ones. */
  async clipUsage(): Promise<{ totalBytes: number; lockedBytes: number; count: number }> {
    return this.repo.usage();
  }

  /** Delete clips (row, then file) for retention, skipping any held as evidence meanwhile. */
  async deleteClips(ids: readonly string[]): Promise<{ deleted: number; bytes: number }> {
    if (ids.length === 0) return { deleted: 0, bytes: 0 };
    const gone = await this.db.transaction(async () => {
      const rows = await this.repo.unlocked(ids);
      await this.repo.delete(rows.map((r) => r.id));
      return rows;
    });
    for (const c of gone) await this.storage.remove(join(this.config.clipsDirAbs, c.file));
    return { deleted: gone.length, bytes: gone.reduce((s, c) => s + c.sizeBytes, 0) };
  }

  /**
   * A JPEG: the frame recorded at `at`, or (without `at`) a live grab from the sub stream (else
   * main). `principal`: on whose behalf a segment on another node's disk is read.
   */
  async snapshot(cameraId: string, at?: string, principal: Principal = SYSTEM_PRINCIPAL): Promise<Buffer> {
    if (at) {
      const atIso = new Date(at).toISOString();
      const seg = await this.timeline.segmentAt(cameraId, atIso);
      if (!seg) throw new NotFoundError('no footage at that time', 'NO_FOOTAGE');
      return this.recordedFrame(principal, seg, atIso);
    }
    const source = await this.cameras.getLiveUrl(cameraId);
    if (!source) throw new BadRequestError(`camera \`${cameraId}\` has no stream URL`, 'NO_STREAM_URL');
    const secrets = source.secrets;
    return this.jobs.run(() =>
      this.grabFrame((out) => buildLiveSnapshotArgs(source.url, out), secrets, false),
    );
  }

  /**
   * The JPEG of the frame at `atIso` of a recorded segment (read through its node when another
   * node's disk holds it). As for a clip: the segment is read-locked before the wait for a media slot.
   */
  async recordedFrame(
    principal: Principal,
    seg: SegmentRef & { startTime: string },
    atIso: string,
  ): Promise<Buffer> {
    const held = await this.timeline.lockForRead([seg.id], true);
    if (held.length === 0) throw new NotFoundError('no footage at that time', 'NO_FOOTAGE');
    try {
      const local = await this.segmentFiles.local(principal, [seg]);
      try {
        const file = local.segs[0].file;
        const offsetS = (Date.parse(atIso) - Date.parse(seg.startTime)) / 1000;
        return await this.jobs.run(() =>
          this.grabFrame((out) => buildSnapshotAtArgs(file, offsetS, out), [], true),
        );
      } finally {
        await local.release();
      }
    } finally {
      await this.timeline.lockForRead(held, false);
    }
  }

  private async grabFrame(
    args: (out: string) => string[],
    secrets: readonly string[],
    recorded: boolean,
  ): Promise<Buffer> {
    const dir = join(this.config.dataDirAbs, 'tmp');
    await this.storage.ensureDir(dir);
    const out = join(dir, `${prefixedId('snap_')}.jpg`);
    try {
      const res = await this.runner.runToCompletion(this.config.ffmpegBin, args(out), {
        timeoutMs: SNAPSHOT_TIMEOUT_MS,
        maxOutputBytes: 16 * 1024,
        redact: secrets,
      });
      const size = await this.storage.size(out);
      if (res.code !== 0 || res.timedOut || !size) {
        const detail = maskUrl(res.stderr.trim().split('\n').pop() ?? '', { secrets });
        if (recorded) throw new NotFoundError('no decodable frame at that time', 'NO_FOOTAGE');
        throw new DomainError(
          502,
          'CAMERA_UNREACHABLE',
          `no frame from the camera${detail ? `: ${detail}` : ''}`,
        );
      }
      return await this.storage.read(out);
    } finally {
      await this.storage.remove(out);
    }
  }

  list(cameraIds: readonly string[] | null, limit: number): Promise<ClipEntity[]> {
    return this.repo.list(cameraIds, limit);
  }

  /** One clip, through its camera's scope: for a scoped caller "missing" and "another camera's" are
   * the same 403; a missing clip is a 404 `CLIP_NOT_FOUND`. */
  get(p: ScopedCaller, id: string): Promise<ClipEntity> {
    return loadScoped(p, () => this.repo.get(id), {
      forbidden: `credential is not scoped to the camera of clip \`${id}\``,
      notFound: () => new NotFoundError(`clip \`${id}\` not found`, 'CLIP_NOT_FOUND'),
    });
  }

  /** Whether another node's disk holds the clip's file (per-node storage). */
  isRemote(clip: ClipEntity): boolean {
    return this.nodes.isRemote(clip.nodeId);
  }

  /** Answers `res` with a clip file another node's disk holds, through that node (Range passed on). */
  proxyClip(principal: Principal, clip: ClipEntity, req: Request, res: Response): Promise<void> {
    return this.nodes.proxy(
      clip.nodeId!,
      nodeClipPath(clip.id),
      principal,
      req,
      res,
      () => new NotFoundError('no such media', 'MEDIA_NOT_FOUND'),
    );
  }

  /** The clip stored as `file`, or null. */
  lookupByFile(file: string): Promise<ClipEntity | null> {
    return this.repo.getByFile(file);
  }
}
