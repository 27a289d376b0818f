import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { CameraDeletionChecks } from '../cameras/camera-deletion-checks';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { HeldarConfig } from '../config/heldar-config';
import { StorageAdapter } from '../media/storage.adapter';
import { IndexerService } from './indexer.service';
import { type SegmentUsageRow, TimelineRepository } from './timeline.repository';

export interface PruneResult {
  deleted: number;
  bytes: number;
  /** Files whose row went but whose unlink failed (they show up as orphans later). */
  unlinkFailures: number;
  byCamera: Map<string, { deleted: number; bytes: number }>;
}

/**
 * What retention may do to recordings, owned by the timeline: usage per camera, deleting the
 * oldest deletable segments (row first, then file; never an evidence- or read-locked one) and
 * reclaiming orphan files. Retention decides what; this module decides how.
 */
@Injectable()
export class SegmentPruner implements OnModuleInit {
  private readonly logger = new Logger('Retention');

  constructor(
    private readonly repo: TimelineRepository,
    private readonly storage: StorageAdapter,
    private readonly cameras: CamerasService,
    private readonly deletionChecks: CameraDeletionChecks,
    private readonly indexer: IndexerService,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  onModuleInit(): void {
    // Deleting a camera removes its recordings: refuse while any of them is held as evidence.
    this.deletionChecks.add(async (cameraId) => {
      const n = await this.repo.evidenceLockedCount(cameraId);
      return n > 0
        ? `camera \`${cameraId}\` has ${n} evidence-locked segment(s); release their evidence locks first`
        : null;
    });
  }

  usage(): Promise<SegmentUsageRow[]> {
    return this.repo.usageByCamera();
  }

  totals(
    cameraIds: readonly string[] | null,
  ): Promise<{ count: number; oldest: string | null; newest: string | null }> {
    return this.repo.totals(cameraIds);
  }

  /** Start of the camera's oldest segment (one index seek), null without segments. */
  oldestStart(cameraId: string): Promise<string | null> {
    return this.repo.firstSegmentStart(cameraId);
  }

  /** Bytes written per camera over the last `hours` (segments that ended in that window). */
  writtenInLast(hours: number): Promise<Map<string, number>> {
    return this.repo.bytesEndedSince(new Date(this.clock.nowMs() - hours * 3_600_000).toISOString());
  }

  /** Delete up to `limit` oldest deletable segments of `cameraId` (null: of any camera). */
  async deleteOldest(cameraId: string | null, limit: number, endBeforeIso?: string): Promise<PruneResult> {
    const gone = await this.repo.deleteOldestDeletable(cameraId, limit, endBeforeIso);
    const result: PruneResult = { deleted: 0, bytes: 0, unlinkFailures: 0, byCamera: new Map() };
    for (const seg of gone) {
      if (!(await this.storage.remove(join(this.config.recordingsDirAbs, seg.path)))) {
        result.unlinkFailures++;
        this.logger.warn({ path: seg.path }, 'segment row deleted but its file could not be removed');
      }
      result.deleted++;
      result.bytes += seg.sizeBytes;
      const c = result.byCamera.get(seg.cameraId) ?? { deleted: 0, bytes: 0 };
      c.deleted++;
      c.bytes += seg.sizeBytes;
      result.byCamera.set(seg.cameraId, c);
    }
    return result;
  }

  /**
   * Recording files (`*.mp4`) that no segment row knows and that were last written more than
   * `minAgeMs` ago: files of deleted cameras, and files of live cameras that the indexer has given
   * up on (empty or unreadable). The camera is indexed first, so footage written while the kernel
   * was down is indexed, never mistaken for an orphan. Emptied directories of deleted cameras go.
   */
  async reclaimOrphans(minAgeMs: number): Promise<{ files: number; bytes: number }> {
    const root = this.config.recordingsDirAbs;
    const known = new Set(await this.cameras.getAllIds());
    let files = 0;
    let bytes = 0;
    for (const dirName of await this.storage.listDirs(root)) {
      const dir = join(root, dirName);
      const live = known.has(dirName);
      if (live) await this.indexer.scanCamera(dirName);
      const nowMs = this.clock.nowMs();
      const old = (await this.storage.listFiles(dir)).filter(
        (f) => f.name.endsWith('.mp4') && nowMs - f.mtimeMs >= minAgeMs,
      );
      if (old.length > 0) {
        const indexed = await this.repo.indexedFiles(dirName);
        for (const f of old) {
          const rel = `${dirName}/${f.name}`;
          if (indexed.has(rel) || (live && !this.indexer.gaveUpOn(rel, f.size))) continue;
          if (await this.storage.remove(join(dir, f.name))) {
            files++;
            bytes += f.size;
          }
        }
      }
      if (!live) await this.storage.removeEmptyDir(dir);
    }
    return { files, bytes };
  }
}
