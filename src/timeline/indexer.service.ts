import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CameraDeletionHooks } from '../cameras/camera-deletion-hooks';
import { CamerasService } from '../cameras/cameras.service';
import { keptByForMode } from '../cameras/record-mode';
import { Clock } from '../common/clock';
import { EXPECTED_GAP_CAUSES } from '../common/gap-cause';
import { prefixedId } from '../common/ids';
import { Loops } from '../common/loops';
import { HeldarConfig } from '../config/heldar-config';
import { EventsService } from '../events/events.service';
import type { ProbedFile } from '../media/ffmpeg-args';
import { MediaService } from '../media/media.service';
import { StorageAdapter } from '../media/storage.adapter';
import type { ClosedSegment, RecorderListener } from '../recorder/recorder-listener';
import { RecorderService } from '../recorder/recorder.service';
import {
  dayUnchanged,
  isSegmentClosed,
  mayRecordDay,
  planFlatMove,
  segmentNode,
  segmentTimes,
  unindexedNames,
  writtenWithoutLease,
} from './timeline-logic';
import { isDayDir, parseSegmentName, segmentDay, segmentRelPath } from '../recorder/recording-layout';
import type { SegmentEntity } from './entities/segment.entity';
import { TimelineRepository } from './timeline.repository';
import { KeyedSerialQueue } from '../common/validation';
import { CameraOwnership } from '../cluster/camera-leases.ownership';

/** A hole longer than this between two segments is a recorded gap. */
export const GAP_THRESHOLD_MS = 3000;
/** A finished file this small that cannot be probed holds only an MP4 header (no fragment). */
const EMPTY_SEGMENT_MAX_BYTES = 4096;
/** A file that cannot be probed this many times is left alone (logged once). */
const MAX_PROBE_FAILURES = 3;
/** Files probed at once in a reconciliation pass (the in-process MP4 reader; 2 cores). */
const PROBE_CONCURRENCY = 4;
/** Files committed per transaction in a reconciliation pass (short: the API waits for the connection). */
const PAGE = 64;
/** Of the newest day folder, this many newest rows are re-checked for a file that grew. */
const REPAIR_TAIL = 3;

interface Found {
  name: string;
  rel: string;
  abs: string;
  size: number;
  mtimeMs: number;
}

interface Probed extends Found {
  probe: ProbedFile;
}

/**
 * Turns recording files into `segments` rows. New segments arrive from the recorder as ffmpeg
 * closes them (its segment list on stdout) and are indexed at once. A reconciliation pass (at
 * boot, after a recorder run ends, and every `HELDAR_INDEXER_INTERVAL_S`) finds what no line
 * announced: per camera and day folder it compares the names on disk with the day's rows (no
 * `stat` for a name already indexed), probes the rest a few at a time and commits them in pages,
 * yielding between pages. It also moves files of the old flat layout into their day folder.
 * Times come from the media; overlaps are clamped; gaps are recorded with their causes. Nothing
 * about history is kept in memory.
 */
/** How long a shutdown waits for queued indexing (the rest is found by the next boot's pass). */
const SHUTDOWN_DRAIN_MS = 10_000;

@Injectable()
export class IndexerService implements OnApplicationBootstrap, OnApplicationShutdown, RecorderListener {
  private readonly unlinking = new Map<string, number>();
  private readonly logger = new Logger('Indexer');
  /** Only files that failed to probe (few, and forgotten once indexed or removed). */
  private readonly probeFailures = new Map<string, number>();
  private readonly queues = new KeyedSerialQueue();
  /** Files last written before this were closed: no recorder of this kernel was writing them. */
  private bootMs = 0;
  /** Index lag samples (file closed → row committed), for the recorder benchmark. */
  readonly lagSamplesMs: number[] = [];

  constructor(
    private readonly repo: TimelineRepository,
    private readonly cameras: CamerasService,
    private readonly recorder: RecorderService,
    private readonly media: MediaService,
    private readonly storage: StorageAdapter,
    private readonly events: EventsService,
    private readonly deletionHooks: CameraDeletionHooks,
    private readonly loops: Loops,
    private readonly clock: Clock,
    private readonly ownership: CameraOwnership,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  /** This node's id on its segment rows (per-node storage in a cluster), else null. */
  private get node(): string | null {
    return segmentNode(this.config);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.bootMs = this.clock.nowMs();
    const cleared = await this.repo.clearReadLocks();
    if (cleared > 0) this.logger.log(`cleared ${cleared} stale segment read-lock(s)`);
    this.deletionHooks.add('segments', async (cameraId) => {
      const prefix = `${cameraId}/`;
      for (const rel of this.probeFailures.keys()) if (rel.startsWith(prefix)) this.probeFailures.delete(rel);
      await this.repo.deleteCamera(cameraId);
    });
    this.recorder.listen(this);
    // The first tick runs at once: the boot reconciliation.
    this.loops.start('indexer', this.config.indexerIntervalS * 1000, () => this.scanAll());
  }

  /** After every recorder stopped (their last lines are queued here), before the database closes:
   * finish what is queued, so the segments ffmpeg closed on the way down are committed now. */
  async onApplicationShutdown(): Promise<void> {
    const deadline = Date.now() + SHUTDOWN_DRAIN_MS;
    while (this.queues.size > 0 && Date.now() < deadline) {
      await Promise.race([
        this.queues.settled(),
        new Promise((r) => setTimeout(r, deadline - Date.now()).unref()),
      ]);
    }
  }

  /** True when the indexer will never index this file (empty, or it gave up probing it). */
  /**
   * Files whose rows are being deleted (retention, keep decisions) until they are unlinked: a
   * reconciliation pass that listed one before the unlink and read the rows after the delete
   * would otherwise index it again — a new row for a file about to vanish.
   */
  markUnlinking(rels: readonly string[]): void {
    for (const r of rels) this.unlinking.set(r, (this.unlinking.get(r) ?? 0) + 1);
  }

  unmarkUnlinking(rels: readonly string[]): void {
    for (const r of rels) {
      const n = (this.unlinking.get(r) ?? 0) - 1;
      if (n > 0) this.unlinking.set(r, n);
      else this.unlinking.delete(r);
    }
  }

  gaveUpOn(rel: string, size: number): boolean {
    return size === 0 || (this.probeFailures.get(rel) ?? 0) >= MAX_PROBE_FAILURES;
  }

  /** ffmpeg closed a segment: index it now (after whatever this camera already has queued). */
  segmentClosed(s: ClosedSegment): void {
    void this.enqueue(s.cameraId, () => this.indexClosed(s)).catch((err: unknown) =>
      this.logger.error({ err, cameraId: s.cameraId, file: s.name }, 'indexing failed'),
    );
  }

  /** A recorder run ended: its last file may have closed without a line; reconcile the camera. */
  recorderExited(cameraId: string, atMs: number): void {
    void this.enqueue(cameraId, () => this.reconcile(cameraId, atMs)).catch((err: unknown) =>
      this.logger.error({ err, cameraId }, 'indexing failed'),
    );
  }

  /** One reconciliation pass over every camera. */
  async scanAll(): Promise<void> {
    // One read of every camera (not one per camera): a pass costs O(cameras) rows.
    for (const { id: cameraId, segmentSeconds } of await this.cameras.listPolicies()) {
      // Shared storage in a cluster: a camera's folder is indexed by the node recording it (two
      // nodes indexing one folder would race for its files). Per-node storage: every folder on
      // this node's own disk. A single node owns every camera.
      if (this.node === null && !this.ownership.owns(cameraId) && !this.config.isSqlite) continue;
      try {
        await this.enqueue(cameraId, () => this.reconcile(cameraId, this.bootMs, segmentSeconds));
      } catch (err) {
        this.logger.error({ err, cameraId }, 'indexing failed');
      }
    }
  }

  /** Reconcile one camera's folders with its rows (serialised with its other indexing work). */
  async scanCamera(cameraId: string): Promise<void> {
    await this.enqueue(cameraId, () => this.reconcile(cameraId, this.bootMs));
  }

  /** Indexing work of one camera never runs concurrently (gaps and clamps depend on order). */
  private enqueue(cameraId: string, fn: () => Promise<void>): Promise<void> {
    return this.queues.run(cameraId, fn);
  }

  private async indexClosed(s: ClosedSegment): Promise<void> {
    const rel = segmentRelPath(s.cameraId, s.name);
    if (!rel) return;
    if (await this.repo.getByPath(rel)) return; // a reconciliation pass got there first
    const abs = join(this.config.recordingsDirAbs, rel);
    const st = await this.storage.stat(abs);
    if (!st) return;
    const probed = await this.probeOrDiscard(s.cameraId, { name: s.name, rel, abs, ...st });
    if (probed) await this.commit(s.cameraId, [probed], true);
  }

  /**
   * One camera: move flat files into day folders, then per day folder index the files no row
   * names. A file is finished when a later one exists, when it was last written before
   * `closedBeforeMs` (its writer is gone), or after its segment length + grace.
   */
  private async reconcile(
    cameraId: string,
    closedBeforeMs: number,
    knownSegmentSeconds?: number,
  ): Promise<void> {
    const segmentSeconds =
      knownSegmentSeconds ?? (await this.cameras.getPolicy(cameraId))?.segmentSeconds ?? null;
    if (segmentSeconds === null) return;
    const camDir = join(this.config.recordingsDirAbs, cameraId);
    const top = await this.storage.listNames(camDir);
    let dirs = top.dirs;
    const flat = top.files.filter((n) => parseSegmentName(n) !== null).sort();
    if (flat.length > 0) {
      await this.migrateFlat(cameraId, camDir, flat, closedBeforeMs, segmentSeconds);
      dirs = (await this.storage.listNames(camDir)).dirs;
    }
    const days = dirs.filter(isDayDir).sort();
    // What the last full pass saw of each folder, and each folder's mtime now (read before any
    // listing): a folder whose mtime is unchanged is not listed. State of folders gone is dropped.
    const saved = await this.repo.dayStates(cameraId, this.node);
    const present = new Set(days);
    await this.repo.clearDayStates(
      cameraId,
      [...saved.keys()].filter((d) => !present.has(d)),
      this.node,
    );
    const statAtMs = this.clock.nowMs();
    const mtimes = new Map<string, number | null>();
    for (const day of days) mtimes.set(day, await this.storage.dirMtime(join(camDir, day)));
    const unchanged = (day: string) => dayUnchanged(saved.get(day), mtimes.get(day) ?? null);
    const record = (day: string, files: string[], names: string[], indexedFiles: number) =>
      unchanged(day)
        ? Promise.resolve()
        : this.recordDay(cameraId, day, {
            mtimeMs: mtimes.get(day) ?? null,
            statAtMs,
            mp4Files: files.filter((n) => n.endsWith('.mp4')).length,
            segmentFiles: names.length,
            indexedFiles,
          });
    // Listings of this pass, dropped as each folder is done (at most one day's names held).
    const listed = new Map<string, string[]>();
    const list = async (day: string) => {
      let files = listed.get(day);
      if (!files) listed.set(day, (files = (await this.storage.listNames(join(camDir, day))).files));
      return files;
    };
    // The camera's newest file (the only one that may still be written): in the last non-empty
    // day. That folder is always listed (a file in it may have grown since it was indexed).
    let newest: string | null = null;
    let newestDay: string | null = null;
    for (let i = days.length - 1; i >= 0 && newestDay === null; i--) {
      const s = saved.get(days[i]);
      if (s && s.files === 0 && unchanged(days[i])) continue;
      const files = await list(days[i]);
      const names = files.filter((n) => parseSegmentName(n) !== null);
      if (names.length > 0) {
        newestDay = days[i];
        newest = names.sort()[names.length - 1];
      } else await record(days[i], files, names, 0); // an empty folder (tomorrow's, made ahead)
    }
    if (newestDay === null) return;
    const isClosed = (f: { name: string; mtimeMs: number }) =>
      f.name !== newest ||
      f.mtimeMs <= closedBeforeMs ||
      isSegmentClosed({
        hasLaterSibling: false,
        mtimeMs: f.mtimeMs,
        nowMs: this.clock.nowMs(),
        segmentSeconds,
      });

    for (const day of days) {
      if (day > newestDay) break;
      const last = day === newestDay;
      if (!last && unchanged(day)) continue; // nothing added, removed or renamed since it was seen whole
      const dayDir = join(camDir, day);
      const files = await list(day);
      listed.delete(day);
      const names = files.filter((n) => parseSegmentName(n) !== null);
      if (names.length === 0) {
        await record(day, files, names, 0);
        continue;
      }
      // A day whose row count matches its files is done: no row read, no stat.
      if (!last && (await this.repo.countOfDay(cameraId, day, this.node)) === names.length) {
        await record(day, files, names, names.length);
        continue;
      }
      const indexed = await this.repo.indexedNamesOfDay(cameraId, day, this.node);
      const todo = unindexedNames(names, indexed).filter(
        (n) =>
          (this.probeFailures.get(`${cameraId}/${day}/${n}`) ?? 0) < MAX_PROBE_FAILURES &&
          !this.unlinking.has(`${cameraId}/${day}/${n}`),
      );
      let committed = 0;
      for (let i = 0; i < todo.length; i += PAGE) {
        const page = await this.statAll(cameraId, day, dayDir, todo.slice(i, i + PAGE));
        const ready = page.filter(isClosed);
        const probed = await this.probeAll(cameraId, ready);
        await this.commit(cameraId, probed, false);
        committed += probed.length;
        await yieldToLoop();
      }
      if (last) await this.repairGrown(cameraId, day, dayDir, indexed, isClosed);
      // Recorded only once every file of the folder has its row (a crash before this lists it again).
      await record(day, files, names, names.filter((n) => indexed.has(n)).length + committed);
      await yieldToLoop();
    }
  }

  /** Record a day folder as seen whole, when its listing may stand for it until its mtime changes. */
  private async recordDay(
    cameraId: string,
    day: string,
    s: Parameters<typeof mayRecordDay>[0],
  ): Promise<void> {
    if (mayRecordDay(s))
      await this.repo.saveDayState(cameraId, day, { mtimeMs: s.mtimeMs!, files: s.segmentFiles }, this.node);
  }

  /** Old layout (`<camera>/<name>`): each closed file to its day folder, its row first (crash-safe:
   * a row already pointing at the day folder just gets its file moved on the next pass). */
  private async migrateFlat(
    cameraId: string,
    camDir: string,
    flat: string[],
    closedBeforeMs: number,
    segmentSeconds: number,
  ): Promise<void> {
    let moved = 0;
    for (let i = 0; i < flat.length; i++) {
      const name = flat[i];
      const from = join(camDir, name);
      const st = await this.storage.stat(from);
      if (!st) continue;
      const closed =
        i < flat.length - 1 ||
        st.mtimeMs <= closedBeforeMs ||
        isSegmentClosed({
          hasLaterSibling: false,
          mtimeMs: st.mtimeMs,
          nowMs: this.clock.nowMs(),
          segmentSeconds,
        });
      if (!closed) continue;
      const flatRel = `${cameraId}/${name}`;
      const dayRel = segmentRelPath(cameraId, name)!;
      const to = join(this.config.recordingsDirAbs, dayRel);
      const plan = planFlatMove({
        flatRow: (await this.repo.getByPath(flatRel)) !== null,
        dayRow: false, // both remaining cases rename; the day pass indexes a file without a row
        dayFileExists: (await this.storage.stat(to)) !== null,
      });
      if (plan === 'conflict') {
        this.logger.warn(
          { cameraId, file: flatRel },
          'flat file left in place: its day folder has one of that name',
        );
        continue;
      }
      await this.storage.ensureDir(join(camDir, segmentDay(name)!));
      if (plan === 'update_row_then_rename') await this.repo.updatePath(flatRel, dayRel);
      try {
        await this.storage.rename(from, to);
        moved++;
      } catch (err) {
        if (plan === 'update_row_then_rename') await this.repo.updatePath(dayRel, flatRel);
        this.logger.error({ err, cameraId, file: flatRel }, 'could not move a flat file into its day folder');
      }
      const failures = this.probeFailures.get(flatRel);
      if (failures !== undefined) {
        this.probeFailures.delete(flatRel);
        this.probeFailures.set(dayRel, failures);
      }
    }
    if (moved > 0) this.logger.log({ cameraId, moved }, 'moved flat recordings into day folders');
  }

  private async statAll(cameraId: string, day: string, dayDir: string, names: string[]): Promise<Found[]> {
    const out = await mapLimit(names, PROBE_CONCURRENCY * 2, async (name) => {
      const abs = join(dayDir, name);
      const st = await this.storage.stat(abs);
      return st ? { name, rel: `${cameraId}/${day}/${name}`, abs, size: st.size, mtimeMs: st.mtimeMs } : null;
    });
    return out.filter((f): f is Found => f !== null);
  }

  private async probeAll(cameraId: string, files: Found[]): Promise<Probed[]> {
    const out = await mapLimit(files, PROBE_CONCURRENCY, (f) => this.probeOrDiscard(cameraId, f));
    return out.filter((p): p is Probed => p !== null);
  }

  /** Probe a closed file; an empty or header-only one is removed, an unreadable one counted, and
   * one this node's recorder opened after it lost the camera's lease is removed. */
  private async probeOrDiscard(cameraId: string, f: Found): Promise<Probed | null> {
    if (this.openedWithoutLease(cameraId, f.name)) {
      // A recorder paused past its lease (a frozen machine, a stopped process group) writes on
      // when it runs again, until its node stops it: the network's backlog of the pause, in files
      // named at the resume. Another node recorded the camera meanwhile; where their media belongs
      // cannot be told from name nor mtime, and a row would put it over the new owner's footage.
      if (await this.storage.remove(f.abs))
        this.logger.warn(
          { cameraId, file: f.rel },
          'removed a segment this node opened after its lease on the camera ended (a paused recorder resumed)',
        );
      this.probeFailures.delete(f.rel);
      return null;
    }
    if (f.size === 0) {
      await this.discardEmpty(cameraId, f.rel, f.abs);
      return null;
    }
    const probe = await this.media.probeFile(f.abs, undefined, f.size);
    if (!probe && f.size < EMPTY_SEGMENT_MAX_BYTES) {
      // Opened by ffmpeg but never given media (it was stopped or cut at a segment boundary):
      // only an MP4 header, nothing to play, nothing lost by removing it.
      await this.discardEmpty(cameraId, f.rel, f.abs);
      return null;
    }
    if (!probe) {
      const n = (this.probeFailures.get(f.rel) ?? 0) + 1;
      this.probeFailures.set(f.rel, n);
      if (n >= MAX_PROBE_FAILURES)
        this.logger.warn({ cameraId, file: f.rel }, 'file cannot be probed; skipping it');
      return null;
    }
    this.probeFailures.delete(f.rel);
    return { ...f, probe };
  }

  /** Per-node storage only (this node's own disk: a file opened there after the lease ended is
   * its own fenced recorder's). With shared storage it could be the new owner's file. */
  private openedWithoutLease(cameraId: string, name: string): boolean {
    if (this.node === null) return false;
    const ago = this.ownership.unprovenForMs(cameraId);
    return writtenWithoutLease(name, ago === null ? null : this.clock.nowMs() - ago);
  }

  private async discardEmpty(cameraId: string, rel: string, abs: string): Promise<void> {
    if (await this.storage.remove(abs))
      this.logger.log({ cameraId, file: rel }, 'removed a segment file without media');
    this.probeFailures.delete(rel);
  }

  /** What a new segment of the camera is kept by, from its record mode (the cameras' policy). */
  private async keptBy(cameraId: string): Promise<string> {
    return keptByForMode((await this.cameras.getPolicy(cameraId))?.recordMode ?? 'continuous');
  }

  /** Rows for probed files (ascending by name) in one transaction: clamps, gaps and their causes. */
  private async commit(cameraId: string, files: Probed[], live: boolean): Promise<void> {
    if (files.length === 0) return;
    const keptBy = await this.keptBy(cameraId);
    const now = this.clock.nowIso();
    const committed: Array<{ f: Probed; endIso: string }> = [];
    const timed = files.map((f) => ({ f, ...segmentTimes(f.mtimeMs, f.probe.durationS, f.name) }));
    await this.repo.transaction(async () => {
      // A page that lies after every row of the camera (a backlog, the live case) needs one query
      // for the end before it; the others follow from the page itself.
      const firstIso = new Date(Math.min(...timed.map((x) => x.startMs))).toISOString();
      const inOrder =
        timed.every((x, i) => i === 0 || x.startMs > timed[i - 1].startMs) &&
        (await this.repo.lastStart(cameraId)) < firstIso;
      let carried = inOrder ? await this.repo.previousEnd(cameraId, firstIso) : null;
      // Rows wait here and go in one multi-row insert; anything that reads the segments flushes first.
      let pending: SegmentEntity[] = [];
      const flush = async () => {
        if (pending.length > 0) await this.repo.insertSegments(pending);
        pending = [];
      };
      for (const { f, startMs, endMs } of timed) {
        const startIso = new Date(startMs).toISOString();
        const endIso = new Date(endMs).toISOString();
        if (!inOrder) await flush();
        const prevEnd = inOrder ? carried : await this.repo.previousEnd(cameraId, startIso);
        const gapMs = prevEnd ? startMs - Date.parse(prevEnd) : 0;
        if (prevEnd && gapMs < 0) {
          await flush();
          await this.repo.clampOverlaps(cameraId, startIso);
        }
        // What previousEnd would now say for the next file: earlier rows end by this start (clamped).
        if (inOrder) carried = gapMs < 0 || carried === null || endIso > carried ? endIso : carried;
        pending.push({
          id: prefixedId('seg_'),
          cameraId,
          path: f.rel,
          startTime: startIso,
          endTime: endIso,
          durationS: f.probe.durationS,
          codec: f.probe.codec,
          width: f.probe.width,
          height: f.probe.height,
          fps: f.probe.fps,
          sizeBytes: f.size,
          container: 'mp4',
          locked: 0,
          evidenceLocked: false,
          incidentId: null,
          createdAt: now,
          keptBy,
          nodeId: this.node,
        });
        committed.push({ f, endIso });
        if (!prevEnd || gapMs <= GAP_THRESHOLD_MS) continue;
        const cause = await this.recorder.explainGap(cameraId, Date.parse(prevEnd), startMs);
        const gapSeconds = Math.round(gapMs / 100) / 10;
        const inserted = await this.repo.insertGap({
          id: prefixedId('gap_'),
          cameraId,
          gapStart: prevEnd,
          gapEnd: startIso,
          gapSeconds,
          cause,
          fillState: 'pending',
          createdAt: now,
        });
        if (inserted) {
          await this.events.emit({
            type: 'recording_gap',
            severity: EXPECTED_GAP_CAUSES.has(cause) ? 'info' : 'warning',
            cameraId,
            payload: { gap_seconds: gapSeconds, prev_end: prevEnd, next_start: startIso, cause },
          });
        }
      }
      await flush();
    });
    if (live) {
      const nowMs = this.clock.nowMs();
      for (const { f } of committed) this.lagSamplesMs.push(Math.max(0, nowMs - f.mtimeMs));
      if (this.lagSamplesMs.length > 10_000) this.lagSamplesMs.splice(0, 5_000);
    }
    const newest = committed.reduce((a, b) => (b.endIso > a.endIso ? b : a));
    await this.recorder.onSegmentIndexed(
      cameraId,
      {
        endIso: newest.endIso,
        sizeBytes: newest.f.size,
        durationS: newest.f.probe.durationS,
        fps: newest.f.probe.fps,
      },
      committed.length,
    );
  }

  /** Only the newest files of a camera can have grown after being indexed: re-check those. */
  private async repairGrown(
    cameraId: string,
    day: string,
    dayDir: string,
    indexed: Map<string, number>,
    isClosed: (f: { name: string; mtimeMs: number }) => boolean,
  ): Promise<void> {
    const tail = [...indexed.keys()].sort().slice(-REPAIR_TAIL);
    for (const f of await this.statAll(cameraId, day, dayDir, tail)) {
      if (indexed.get(f.name) === f.size || !isClosed(f)) continue;
      const probe = await this.media.probeFile(f.abs);
      if (!probe) continue;
      const { endMs } = segmentTimes(f.mtimeMs, probe.durationS, f.name);
      // Indexed while still growing (or rewritten): repair size, end and duration.
      await this.repo.repairSegment(f.rel, {
        sizeBytes: f.size,
        endTime: new Date(endMs).toISOString(),
        durationS: probe.durationS,
      });
    }
  }
}

/** `fn` over `items` with at most `limit` running at once; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
