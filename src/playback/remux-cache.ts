import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Clock } from '../common/clock';
import { Loops } from '../common/loops';
import { HeldarConfig } from '../config/heldar-config';
import { buildRemuxArgs } from '../media/ffmpeg-args';
import { MediaJobs } from '../media/media-jobs';
import { ProcessRunner } from '../process/process-runner';

/** One cached remux: a fragmented copy of a recorded file that is not fragmented MP4. */
export interface RemuxEntry {
  segmentId: string;
  /** The recorded file and its identity (size:mtime) when it was remuxed. */
  source: string;
  sourceKey: string;
  bytes: number;
  lastUsedMs: number;
  /** Open sessions serving it: never evicted while > 0. */
  pins: number;
}

export type RemuxResult = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Which entries to evict so that `incoming` more bytes fit under `capBytes`: unpinned ones, least
 * recently used first. `fits` is false when even evicting every unpinned entry is not enough.
 */
export function pickEvictions(
  entries: Array<Pick<RemuxEntry, 'segmentId' | 'bytes' | 'lastUsedMs' | 'pins'>>,
  capBytes: number,
  incoming: number,
): { evict: string[]; fits: boolean } {
  let total = entries.reduce((n, e) => n + e.bytes, 0) + incoming;
  const evict: string[] = [];
  for (const e of [...entries].filter((x) => x.pins === 0).sort((a, b) => a.lastUsedMs - b.lastUsedMs)) {
    if (total <= capBytes) break;
    evict.push(e.segmentId);
    total -= e.bytes;
  }
  return { evict, fits: total <= capBytes };
}

const SEGMENT_ID = /^seg_[A-Za-z0-9_-]{1,64}$/;
const REMUX_TIMEOUT_MS = 120_000;
const SWEEP_MS = 60_000;
const keyOf = (st: { size: number; mtimeMs: number }) => `${st.size}:${Math.round(st.mtimeMs)}`;

/**
 * Playback's remux fallback: a recorded file that is not fragmented MP4 is copied once (ffmpeg
 * stream copy, through the media-job governor) into `<data>/playback-remux/<segment>.mp4`, written
 * under a temporary name and renamed, so a playlist never points at bytes not there yet. Bounded by
 * HELDAR_PLAYBACK_REMUX_CACHE_MB, least recently used out first, never a copy an open session
 * serves. A copy whose source is gone (retention deleted it) or changed is removed by the sweep
 * (every minute and at boot); a sidecar `<segment>.json` names the source so a restart can tell.
 */
@Injectable()
export class RemuxCache implements OnApplicationBootstrap {
  private readonly logger = new Logger('PlaybackRemux');
  private readonly entries = new Map<string, RemuxEntry>();
  private readonly inflight = new Map<string, Promise<RemuxResult>>();
  readonly dir: string;

  constructor(
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    private readonly runner: ProcessRunner,
    private readonly jobs: MediaJobs,
    private readonly loops: Loops,
    private readonly clock: Clock,
  ) {
    this.dir = join(config.dataDirAbs, 'playback-remux');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.load();
    this.loops.start('playback_remux_sweep', SWEEP_MS, async () => {
      await this.sweep();
    });
  }

  /** Cached copies (tests, metrics). */
  get count(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.bytes;
    return n;
  }

  private get capBytes(): number {
    return this.config.playbackRemuxCacheMb * 1024 * 1024;
  }

  private pathOf(segmentId: string): string {
    return join(this.dir, `${segmentId}.mp4`);
  }

  /**
   * Boot: adopt the copies whose source is unchanged; remove the rest (stale copies, orphans,
   * half-written temporaries of a crash).
   */
  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.entries.clear();
    const names = await readdir(this.dir);
    const keep = new Set<string>();
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      const id = n.slice(0, -5);
      const meta = await readFile(join(this.dir, n), 'utf8')
        .then((t) => JSON.parse(t) as { source?: unknown; sourceKey?: unknown })
        .catch(() => null);
      const src = typeof meta?.source === 'string' ? await stat(meta.source).catch(() => null) : null;
      const copy = await stat(this.pathOf(id)).catch(() => null);
      if (SEGMENT_ID.test(id) && src && copy && keyOf(src) === meta?.sourceKey) {
        this.entries.set(id, {
          segmentId: id,
          source: meta.source as string,
          sourceKey: meta.sourceKey,
          bytes: copy.size,
          lastUsedMs: copy.mtimeMs,
          pins: 0,
        });
        keep.add(`${id}.mp4`).add(n);
      }
    }
    const stale = names.filter((n) => !keep.has(n));
    for (const n of stale) await rm(join(this.dir, n), { force: true });
    if (stale.length > 0)
      this.logger.log({ msg: 'stale playback remux files removed', removed: stale.length });
    await this.evictFor(0);
  }

  /**
   * The fragmented copy of `source` (segment `segmentId`), made once and pinned for the caller
   * (`release` it when the session closes). Never throws: a failure is a reason.
   */
  async acquire(segmentId: string, source: string): Promise<RemuxResult> {
    if (!SEGMENT_ID.test(segmentId)) return { ok: false, reason: 'not a segment id' };
    const src = await stat(source).catch(() => null);
    if (!src) return { ok: false, reason: 'the recorded file is missing' };
    const hit = this.entries.get(segmentId);
    if (hit && hit.sourceKey === keyOf(src) && hit.source === source) {
      hit.pins++;
      hit.lastUsedMs = this.clock.nowMs();
      return { ok: true, path: this.pathOf(segmentId) };
    }
    let job = this.inflight.get(segmentId);
    if (!job) {
      job = this.make(segmentId, source, src).finally(() => this.inflight.delete(segmentId));
      this.inflight.set(segmentId, job);
    }
    const res = await job;
    if (!res.ok) return res;
    const e = this.entries.get(segmentId);
    if (!e) return { ok: false, reason: 'the remuxed copy was evicted' };
    e.pins++;
    e.lastUsedMs = this.clock.nowMs();
    return res;
  }

  release(segmentId: string): void {
    const e = this.entries.get(segmentId);
    if (e && e.pins > 0) e.pins--;
  }

  private async make(
    segmentId: string,
    source: string,
    src: { size: number; mtimeMs: number },
  ): Promise<RemuxResult> {
    const old = this.entries.get(segmentId);
    if (old && old.pins === 0) await this.remove(segmentId);
    else if (old) return { ok: false, reason: 'the recorded file changed under an open session' };
    // The copy is about the size of its source: make room first (never below what sessions pin).
    if (!(await this.evictFor(src.size)))
      return { ok: false, reason: 'the playback remux cache is full of copies open sessions use' };
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `${segmentId}.tmp.mp4`);
    const out = this.pathOf(segmentId);
    try {
      const res = await this.jobs.run(() =>
        this.runner.runToCompletion(this.config.ffmpegBin, buildRemuxArgs(source, tmp), {
          timeoutMs: REMUX_TIMEOUT_MS,
          maxOutputBytes: 8 * 1024,
        }),
      );
      if (res.timedOut || res.code !== 0) {
        // The data directory's layout stays out of the reason (it reaches API clients).
        const last = res.stderr.trim().split('\n').filter(Boolean).pop()?.split(source).join('input');
        throw new Error(
          res.timedOut
            ? `ffmpeg remux timed out after ${REMUX_TIMEOUT_MS / 1000} s`
            : `ffmpeg remux failed (${last ?? `exit code ${res.code}`})`,
        );
      }
      const bytes = (await stat(tmp)).size;
      const sourceKey = keyOf(src);
      await writeFile(join(this.dir, `${segmentId}.json`), JSON.stringify({ source, sourceKey }));
      await rename(tmp, out);
      this.entries.set(segmentId, {
        segmentId,
        source,
        sourceKey,
        bytes,
        lastUsedMs: this.clock.nowMs(),
        pins: 0,
      });
      this.logger.log({ msg: 'recorded file remuxed to fragmented MP4 for playback', segmentId, bytes });
      await this.evictFor(0);
      return { ok: true, path: out };
    } catch (err) {
      await rm(tmp, { force: true });
      return { ok: false, reason: (err as Error).message };
    }
  }

  /** Evict least recently used unpinned copies until `incoming` more bytes fit; false if they cannot. */
  private async evictFor(incoming: number): Promise<boolean> {
    const { evict, fits } = pickEvictions([...this.entries.values()], this.capBytes, incoming);
    for (const id of evict) await this.remove(id);
    return fits;
  }

  private async remove(segmentId: string): Promise<void> {
    this.entries.delete(segmentId);
    await rm(this.pathOf(segmentId), { force: true });
    await rm(join(this.dir, `${segmentId}.json`), { force: true });
  }

  /** Removes unpinned copies whose source is gone (deleted by retention) or changed. */
  async sweep(): Promise<number> {
    let n = 0;
    for (const e of [...this.entries.values()]) {
      if (e.pins > 0) continue;
      const src = await stat(e.source).catch(() => null);
      if (src && keyOf(src) === e.sourceKey) continue;
      await this.remove(e.segmentId);
      n++;
    }
    return n;
  }
}
