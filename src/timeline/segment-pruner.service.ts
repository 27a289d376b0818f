import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { dirname, join } from 'node:path';
import { CameraDeletionChecks } from '../cameras/camera-deletion-checks';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { HeldarConfig } from '../config/heldar-config';
import { StorageAdapter } from '../media/storage.adapter';
import { IndexerService } from './indexer.service';
import { isDayDir, parseSegmentName, recorderDayDirs } from '../recorder/recording-layout';
import { type DayState, dayUnchanged, segmentNode } from './timeline-logic';
import { type SegmentUsageRow, TimelineRepository } from './timeline.repository';

/** A camera's footage bytes (total, held, deletable): what retention plans with. */
export type { SegmentUsageRow } from './timeline.repository';

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

  /** Every node's footage per camera (one `segment_usage` row each). */
  usage(): Promise<SegmentUsageRow[]> {
    return this.repo.usageByCamera();
  }

  /** Whether this node's disk holds only part of the footage (per-node storage in a cluster). */
  get perNode(): boolean {
    return segmentNode(this.config) !== null;
  }

  /** The footage on this node's disk per camera (optionally only of `cameraIds`), what its
   * retention limits apply to: `usage()` on a single node or with shared storage; with per-node
   * storage an aggregate of this node's rows (retention asks only when `usage()` says a limit may
   * be exceeded, or the disk is short). */
  usageHere(cameraIds?: readonly string[]): Promise<SegmentUsageRow[]> {
    const node = segmentNode(this.config);
    return node === null ? this.usage() : this.repo.usageOnNode(node, cameraIds);
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

  /** Bytes kept by event recording per camera of `cameraIds` over the last `hours` (segments that
   * ended in that window with `kept_by` `event:…` or `lock`). */
  keptInLast(cameraIds: readonly string[], hours: number): Promise<Map<string, number>> {
    return this.repo.bytesKeptSince(
      cameraIds,
      new Date(this.clock.nowMs() - hours * 3_600_000).toISOString(),
    );
  }

  /** Delete up to `limit` oldest deletable segments of `cameraId` (null: of any camera). In a
   * cluster with per-node storage only this node's rows: a node never deletes a row of footage
   * that lives on another node's disk (that node's retention does). */
  async deleteOldest(cameraId: string | null, limit: number, endBeforeIso?: string): Promise<PruneResult> {
    const marked: string[] = [];
    try {
      return await this.pruneOldest(cameraId, limit, endBeforeIso, marked);
    } finally {
      this.indexer.unmarkUnlinking(marked);
    }
  }

  private async pruneOldest(
    cameraId: string | null,
    limit: number,
    endBeforeIso: string | undefined,
    marked: string[],
  ): Promise<PruneResult> {
    const gone = await this.repo.deleteOldestDeletable(
      cameraId,
      limit,
      endBeforeIso,
      segmentNode(this.config),
      (paths) => this.markUnlinking(paths, marked),
    );
    const result: PruneResult = { deleted: 0, bytes: 0, unlinkFailures: 0, byCamera: new Map() };
    const folders = new Set<string>();
    for (const seg of gone) {
      const file = join(this.config.recordingsDirAbs, seg.path);
      folders.add(dirname(file));
      if (!(await this.storage.remove(file))) {
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
    // A past day folder emptied by this batch goes with it (one rmdir per folder, refused if not empty).
    const keep = new Set(recorderDayDirs(this.clock.nowMs()));
    for (const dir of folders) {
      const day = dir.slice(dir.lastIndexOf('/') + 1);
      if (isDayDir(day) && !keep.has(day)) await this.storage.removeEmptyDir(dir);
    }
    return result;
  }

  /** Rows about to go (inside their delete's transaction): the indexer must not index their files
   * again until they are unlinked (`marked` collects them for the unmark). */
  private markUnlinking(paths: string[], marked: string[]): void {
    this.indexer.markUnlinking(paths);
    marked.push(...paths);
  }

  /** An event camera's segments waiting for their keep decision (see TimelineRepository). In a
   * cluster with per-node storage only this node's rows: the keep decision that deletes a segment
   * unlinks its file, so it is taken by the node whose disk holds it (the keep windows it reads are
   * shared rows, whichever node a trigger arrived on). */
  pendingSegments(
    cameraId: string,
    afterStartIso: string,
    endBeforeIso: string,
    limit: number,
  ): Promise<Array<{ id: string; startTime: string; endTime: string }>> {
    return this.repo.pendingSegments(cameraId, afterStartIso, endBeforeIso, limit, segmentNode(this.config));
  }

  /** Keep (`kept_by`) or delete (row, then file; `no_event` gaps) an event camera's segments. */
  async decideSegments(
    cameraId: string,
    keep: ReadonlyArray<{ id: string; keptBy: string }>,
    drop: readonly string[],
  ): Promise<{ deleted: number; bytes: number }> {
    const marked: string[] = [];
    try {
      const gone = await this.repo.decideSegments(cameraId, keep, drop, this.clock.nowIso(), (paths) =>
        this.markUnlinking(paths, marked),
      );
      let bytes = 0;
      for (const seg of gone) {
        bytes += seg.sizeBytes;
        if (!(await this.storage.remove(join(this.config.recordingsDirAbs, seg.path))))
          this.logger.warn({ path: seg.path }, 'segment row deleted but its file could not be removed');
      }
      return { deleted: gone.length, bytes };
    } finally {
      this.indexer.unmarkUnlinking(marked);
    }
  }

  /**
   * Recording files (`*.mp4`) that no segment row knows and that were last written more than
   * `minAgeMs` ago: files of deleted cameras, and files of live cameras that the indexer has given
   * up on (empty or unreadable). The camera is indexed first, so footage written while the kernel
   * was down is indexed, never mistaken for an orphan. Per day folder, a folder the indexer
   * recorded as seen whole and whose mtime is unchanged is not listed, one whose row count matches
   * its files is skipped without a `stat`; emptied past day folders and directories of deleted
   * cameras go.
   */
  async reclaimOrphans(minAgeMs: number): Promise<{ files: number; bytes: number }> {
    const root = this.config.recordingsDirAbs;
    const known = new Set(await this.cameras.listIds());
    const keepDays = new Set(recorderDayDirs(this.clock.nowMs()));
    const total = { files: 0, bytes: 0 };
    for (const cameraId of await this.storage.listDirs(root)) {
      const camDir = join(root, cameraId);
      const live = known.has(cameraId);
      if (live) await this.indexer.scanCamera(cameraId);
      const { files, dirs } = await this.storage.listNames(camDir);
      // Left in the old flat layout (a deleted camera's, or one the migration could not move).
      await this.reclaimIn(camDir, `${cameraId}/`, files, live, minAgeMs, total, null);
      // A folder the indexer saw whole (every .mp4 with its row) and unchanged since: no orphan.
      const saved = live
        ? await this.repo.dayStates(cameraId, segmentNode(this.config))
        : new Map<string, DayState>();
      for (const day of dirs.filter(isDayDir).sort()) {
        const dayDir = join(camDir, day);
        const state = saved.get(day);
        if (state && dayUnchanged(state, await this.storage.dirMtime(dayDir))) {
          if (state.files === 0 && !keepDays.has(day)) await this.storage.removeEmptyDir(dayDir);
          continue;
        }
        const names = (await this.storage.listNames(dayDir)).files;
        const count = live ? await this.repo.countOfDay(cameraId, day, segmentNode(this.config)) : 0;
        const segments = names.filter((n) => parseSegmentName(n) !== null).length;
        if (!(live && count === segments && segments === names.filter((n) => n.endsWith('.mp4')).length)) {
          const indexed = live
            ? await this.repo.indexedNamesOfDay(cameraId, day, segmentNode(this.config))
            : new Map<string, number>();
          await this.reclaimIn(dayDir, `${cameraId}/${day}/`, names, live, minAgeMs, total, indexed);
        }
        if (!keepDays.has(day)) await this.storage.removeEmptyDir(dayDir);
      }
      if (!live) await this.storage.removeEmptyDir(camDir);
    }
    return total;
  }

  /** Remove the old unindexed `.mp4` files among `names` in `dir` (`indexed`: the folder's rows by
   * name; null: look each candidate up by path). */
  private async reclaimIn(
    dir: string,
    relPrefix: string,
    names: string[],
    live: boolean,
    minAgeMs: number,
    total: { files: number; bytes: number },
    indexed: Map<string, number> | null,
  ): Promise<void> {
    for (const name of names) {
      if (!name.endsWith('.mp4') || indexed?.has(name)) continue;
      const rel = `${relPrefix}${name}`;
      const st = await this.storage.stat(join(dir, name));
      if (!st || this.clock.nowMs() - st.mtimeMs < minAgeMs) continue;
      if (live && !this.indexer.gaveUpOn(rel, st.size)) continue;
      if (indexed === null && live && (await this.repo.getByPath(rel))) continue;
      if (await this.storage.remove(join(dir, name))) {
        total.files++;
        total.bytes += st.size;
      }
    }
  }
}
