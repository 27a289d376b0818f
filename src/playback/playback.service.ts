import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Request } from 'express';
import { AuditService } from '../audit/audit.service';
import { ViewAudit } from '../audit/view-audit';
import { hasCapability, type Principal } from '../auth/principal';
import { extractCredential, PrincipalResolver } from '../auth/principal-resolver';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { BadRequestError, ForbiddenError, NotFoundError } from '../common/errors';
import { prefixedId } from '../common/ids';
import { Loops } from '../common/loops';
import { SecretBox } from '../common/secret-box';
import { HeldarConfig } from '../config/heldar-config';
import { signLiveToken, verifyLiveToken, type LiveTokenClaims } from '../liveview/live-token';
import { FragmentIndexCache, fileStamp, type Mp4FragmentIndex } from '../media/mp4-fragments';
import type { GapDto } from '../timeline/dto/timeline.dto';
import { TimelineService } from '../timeline/timeline.service';
import { SegmentFiles, type SegmentRef } from '../timeline/segment-files';
import { ExportsService } from '../exports/exports.service';
import {
  nearestKeyframe,
  playlistEnd,
  playlistHeader,
  playlistPart,
  type PlaylistFile,
  type PlaylistPart,
} from './playlist';
import { RemuxCache } from './remux-cache';
import { assertInScope } from '../common/validation';

/** What a client gets when it opens a session. */
export interface PlaybackSessionDto {
  id: string;
  camera_id: string;
  playlist_url: string;
  from: string;
  to: string | null;
  duration_s: number;
  segment_count: number;
  gaps: GapDto[];
  /** Which path serves the session: `fmp4` every segment is a recorded fragmented MP4 (byte ranges
   * of the files themselves); `remux` every one is a cached fragmented copy of a file that is not;
   * `mixed` both. */
  mode: PlaybackMode;
  /** Segments served from a remuxed copy (files that are not fragmented MP4). */
  remuxed_segments: number;
  /** Segments of the range left out (shown as holes): neither fragmented MP4 nor remuxable. */
  skipped_segments: number;
  /** Why each was left out (the first 100). */
  skipped: SkippedSegmentDto[];
  expires_at: string;
}

export type PlaybackMode = 'fmp4' | 'mixed' | 'remux';

export interface SkippedSegmentDto {
  segment_id: string;
  start_time: string;
  reason: string;
}

interface SessionSegment {
  id: string;
  file: string;
  startMs: number;
  endMs: number;
  /** Its fragments, and the file's `size:mtime` when they were read. */
  index: Mp4FragmentIndex;
  stamp: string | null;
}

/** The playlist text of a session's first `count` segments (finished: rendered once). */
interface FinishedPart {
  text: string;
  /** Entries in `text` (the entries themselves are not kept: 43,200 for a day of 2 s fragments). */
  entries: number;
  targetS: number;
  durationS: number;
  count: number;
}

interface Session {
  id: string;
  cameraId: string;
  /** Who opened it: segments on another node's disk are read through that node on its behalf. */
  principal: Principal;
  /** Local copies of segments another node's disk holds (per-node storage), by segment id: their
   * release (the copy is removed) when the segment leaves the session or the session closes. */
  copies: Map<string, () => Promise<void>>;
  fromMs: number;
  toMs: number | null;
  token: string;
  /** Segments in the playlist (each holds one read-lock while the session is open), by id. */
  segments: Map<string, SessionSegment>;
  /** Segments left out, with why. */
  skipped: Map<string, SkippedSegmentDto>;
  /** Segments served from a remuxed copy (each pins it in the remux cache while the session is open). */
  remuxed: Set<string>;
  /** The same, ascending by start. */
  ordered: SessionSegment[];
  /**
   * Every segment but the newest is finished: its part of the playlist is rendered once and
   * appended to, so a reload costs the new segments, not the session's history. Dropped (and
   * rebuilt from the held indexes) when a served file turned out gone or changed, and on the
   * periodic re-check of the files (REVALIDATE_MS).
   */
  finished: FinishedPart | null;
  /** When the session last checked every listed file against the disk. */
  revalidatedMs: number;
  /** A served file was found gone or changed: re-check every file on the next reload. */
  stale: boolean;
  lastSeenMs: number;
  /** When the open session last looked for newly indexed segments. */
  refreshedMs: number;
  targetS: number;
  /** Subject re-check result, kept briefly (a player fetches many byte ranges). */
  subjectOkUntilMs: number;
  closed: boolean;
  chain: Promise<unknown>;
}

export const PLAYBACK_ID = /^pbs_[A-Za-z0-9_-]{1,60}$/;
const PAGE = 5000;
const LOCK_CHUNK = 500;
const REFRESH_MS = 1000;
/** How often an open session re-stats every file it lists (a file deleted or replaced on disk). */
export const PLAYBACK_REVALIDATE_MS = 30_000;
const SUBJECT_CACHE_MS = 5000;
const REAP_MS = 5000;
const FRAME_CACHE = 512;
/** Token lifetime: the session's own idle expiry is the real limit; the token outlives any session. */
const TOKEN_TTL_S = 7 * 86400;
const tokenPath = (id: string) => `playback_${id}`;
const iso = (ms: number) => new Date(ms).toISOString();
const modeOf = (segments: number, remuxed: number): PlaybackMode =>
  remuxed === 0 ? 'fmp4' : remuxed >= segments ? 'remux' : 'mixed';

/**
 * Playback sessions: one HLS playlist over the recorded fragmented MP4 files of a time range, with
 * no process per viewer (byte ranges of the files themselves). Sessions live in memory (single
 * node): each holds a read-lock on the segments it lists, released on DELETE, on idle expiry and
 * at shutdown; a crash leaves locks the indexer zeroes at boot.
 */
@Injectable()
export class PlaybackService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Playback');
  private readonly sessions = new Map<string, Session>();
  /** Fragment indexes of the recorded files (public so tests can count what a reload reads). */
  readonly fragments = new FragmentIndexCache(8192);
  private readonly key: Buffer;
  /** Scrubbing thumbnails by (segment, keyframe): bounded, least recently used out first. */
  private readonly frames = new Map<string, Buffer>();

  constructor(
    private readonly timeline: TimelineService,
    private readonly cameras: CamerasService,
    private readonly audit: AuditService,
    private readonly views: ViewAudit,
    private readonly resolver: PrincipalResolver,
    private readonly loops: Loops,
    private readonly clock: Clock,
    private readonly exportsService: ExportsService,
    box: SecretBox,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    private readonly remux: RemuxCache,
    private readonly segmentFiles: SegmentFiles,
  ) {
    this.key = box.deriveKey('heldar-playback-token-v1');
  }

  onApplicationBootstrap(): void {
    this.loops.start('playback_reaper', REAP_MS, async () => {
      await this.reapIdle();
    });
  }

  async onModuleDestroy(): Promise<void> {
    for (const s of [...this.sessions.values()]) await this.close(s).catch(() => undefined);
  }

  /** Open sessions (tests, metrics). */
  get openCount(): number {
    return this.sessions.size;
  }

  async create(p: Principal, cameraId: string, from: string, to?: string): Promise<PlaybackSessionDto> {
    await this.cameras.assertVisible(p, cameraId, 'play its recordings');
    const nowMs = this.clock.nowMs();
    const fromMs = Date.parse(from);
    const toMs = to === undefined ? null : Date.parse(to);
    if (toMs !== null && toMs <= fromMs)
      throw new BadRequestError('to must be after from', 'VALIDATION_FAILED');
    const maxMs = this.config.maxPlaybackHours * 3_600_000;
    if ((toMs ?? nowMs) - fromMs > maxMs)
      throw new BadRequestError(
        `a playback session spans at most ${this.config.maxPlaybackHours} h (HELDAR_MAX_PLAYBACK_HOURS)`,
        'PLAYBACK_RANGE_TOO_LONG',
      );
    if (fromMs > nowMs) throw new BadRequestError('from is in the future', 'VALIDATION_FAILED');
    const id = prefixedId('pbs_');
    const session: Session = {
      id,
      cameraId,
      principal: p,
      copies: new Map(),
      fromMs,
      toMs,
      token: signLiveToken(this.key, {
        path: tokenPath(id),
        kind: p.kind,
        subject: p.kind === 'system' ? 'system' : p.id,
        exp: Math.floor(nowMs / 1000) + TOKEN_TTL_S,
      }),
      segments: new Map(),
      skipped: new Map(),
      remuxed: new Set(),
      ordered: [],
      finished: null,
      revalidatedMs: nowMs,
      stale: false,
      lastSeenMs: nowMs,
      refreshedMs: nowMs,
      targetS: 1,
      subjectOkUntilMs: 0,
      closed: false,
      chain: Promise.resolve(),
    };
    await this.addSegments(session, fromMs, toMs ?? nowMs + 86_400_000);
    const playlist = await this.playlistOf(session);
    if (playlist.entries === 0) {
      await this.release(session);
      throw new NotFoundError(`camera \`${cameraId}\` has no playable footage in that range`, 'NO_FOOTAGE');
    }
    this.sessions.set(id, session);
    const gaps = await this.timeline.getGaps(cameraId, iso(fromMs), toMs === null ? undefined : iso(toMs));
    await this.views.record(
      p,
      'view_playback',
      cameraId,
      { type: 'playback_session', id },
      {
        from: iso(fromMs),
        to: toMs === null ? null : iso(toMs),
        segment_count: session.segments.size,
      },
    );
    return {
      id,
      camera_id: cameraId,
      playlist_url: `/media/playback/${id}/index.m3u8?token=${encodeURIComponent(session.token)}`,
      from: iso(fromMs),
      to: toMs === null ? null : iso(toMs),
      duration_s: Math.round(playlist.durationS * 1000) / 1000,
      segment_count: session.segments.size,
      gaps: gaps.gaps,
      mode: modeOf(session.segments.size, session.remuxed.size),
      remuxed_segments: session.remuxed.size,
      skipped_segments: session.skipped.size,
      skipped: [...session.skipped.values()].slice(0, 100),
      expires_at: iso(nowMs + this.config.playbackSessionTtlS * 1000),
    };
  }

  /**
   * The JPEG of the keyframe nearest to `at` in the segment covering it (scrubbing thumbnails):
   * cached per (segment, keyframe); made through the media-job governor by the snapshot export.
   */
  async frame(p: Principal, cameraId: string, at: string): Promise<{ jpeg: Buffer; frameAt: string }> {
    await this.cameras.assertVisible(p, cameraId, 'read its recordings');
    const atMs = Date.parse(at);
    const seg = await this.timeline.segmentAt(cameraId, iso(atMs));
    if (!seg) throw new NotFoundError('no footage at that time', 'NO_FOOTAGE');
    // A segment on another node's disk is read through it (a local copy for this request).
    const local = await this.segmentFiles.local(p, [seg]);
    let out: { jpeg: Buffer; frameAt: string };
    try {
      const file = local.segs[0].file;
      const index = await this.fragments.get(file);
      const key = index ? nearestKeyframe(index, Date.parse(seg.startTime), atMs) : null;
      if (!key) throw new NotFoundError('no footage at that time', 'NO_FOOTAGE');
      const frameAt = iso(key.atMs);
      const cacheKey = `${seg.id}:${key.fragment}`;
      const cached = this.frames.get(cacheKey);
      if (cached) this.frames.delete(cacheKey);
      // A local segment: the snapshot export as for any recorded frame; a copy: that very file.
      const jpeg =
        cached ??
        (local.copied > 0
          ? await this.exportsService.recordedFrame(p, { ...seg, file, nodeId: null }, frameAt)
          : await this.exportsService.snapshot(cameraId, frameAt));
      this.frames.set(cacheKey, jpeg);
      while (this.frames.size > FRAME_CACHE) this.frames.delete(this.frames.keys().next().value!);
      out = { jpeg, frameAt };
    } finally {
      if (local.copied > 0) this.fragments.forget(local.segs[0].file);
      await local.release();
    }
    await this.views.record(
      p,
      'view_snapshot',
      cameraId,
      { type: 'camera', id: cameraId },
      { at, live: false },
    );
    return out;
  }

  /** DELETE: the caller must see the session's camera; a scoped caller learns nothing of others. */
  async delete(p: Principal, id: string): Promise<void> {
    const s = this.lookupFor(p, id);
    await this.close(s);
    await this.audit.record(p, 'delete_playback_session', 'playback_session', id, { camera_id: s.cameraId });
  }

  private lookupFor(p: Principal, id: string): Session {
    const valid = PLAYBACK_ID.test(id);
    const s = valid ? this.sessions.get(id) : undefined;
    // Scope before existence or format: a scoped caller learns nothing about other sessions.
    assertInScope(p, s?.cameraId, `playback session \`${id}\` is not on a camera in your scope`);
    if (!valid) throw new BadRequestError('not a playback session id', 'VALIDATION_FAILED');
    if (!s) throw new NotFoundError(`no playback session \`${id}\``, 'PLAYBACK_NOT_FOUND');
    return s;
  }

  /**
   * Media-plane access to a session's playlist and bytes: a credential on the request (it must hold
   * video:playback and see the camera), else the session's token, whose subject must still hold them.
   */
  async authorizeMedia(id: string, req: Request, token: string | undefined): Promise<Session> {
    if (!PLAYBACK_ID.test(id)) throw new BadRequestError('not a playback session id', 'VALIDATION_FAILED');
    const nowMs = this.clock.nowMs();
    if (this.config.authEnabled && extractCredential(req)) {
      const p = await this.resolver.resolve(req);
      if (!hasCapability(p, 'video:playback'))
        throw new ForbiddenError('requires capability video:playback', 'MISSING_CAPABILITY');
      const s = this.lookupFor(p, id);
      s.lastSeenMs = nowMs;
      return s;
    }
    const denied = () =>
      new ForbiddenError('a valid playback token for this session is required', 'PLAYBACK_TOKEN_INVALID');
    const claims = verifyLiveToken(this.key, token, tokenPath(id), Math.floor(nowMs / 1000));
    if (!claims) throw denied();
    const s = this.sessions.get(id);
    if (!s || this.idle(s, nowMs)) {
      if (s) await this.close(s);
      throw new NotFoundError(`no playback session \`${id}\` (closed or expired)`, 'PLAYBACK_NOT_FOUND');
    }
    if (s.subjectOkUntilMs < nowMs) {
      if (!(await this.subjectStands(claims, s.cameraId))) throw denied();
      s.subjectOkUntilMs = nowMs + SUBJECT_CACHE_MS;
    }
    s.lastSeenMs = nowMs;
    return s;
  }

  private async subjectStands(claims: LiveTokenClaims, cameraId: string): Promise<boolean> {
    if (claims.kind === 'system') return !this.config.authEnabled;
    const p = await this.resolver.resolveSubject(claims.kind, claims.subject);
    return (
      !!p &&
      hasCapability(p, 'video:playback') &&
      (p.cameraScope === 'all' || p.cameraScope.includes(cameraId))
    );
  }

  /** The playlist text; an open session first picks up the segments indexed since its last look. */
  async playlistText(s: Session): Promise<string> {
    if (s.toMs === null && this.clock.nowMs() - s.refreshedMs >= REFRESH_MS) {
      await this.serial(s, async () => {
        const last = Math.max(s.fromMs, s.ordered[s.ordered.length - 1]?.startMs ?? s.fromMs);
        s.refreshedMs = this.clock.nowMs();
        await this.addSegments(s, last, s.refreshedMs + 86_400_000);
      });
    }
    return (await this.playlistOf(s)).text;
  }

  /**
   * The file behind a segment of the session (only segments it lists are served). A file gone or
   * changed since it was listed marks the session for a re-check, so its next playlist tells the
   * truth; a gone one answers 404.
   */
  async fileOf(s: Session, segmentId: string): Promise<string> {
    const seg = s.segments.get(segmentId);
    if (!seg)
      throw new NotFoundError(
        'that segment is not part of this playback session',
        'PLAYBACK_SEGMENT_NOT_FOUND',
      );
    const stamp = await fileStamp(seg.file);
    if (stamp !== seg.stamp) s.stale = true;
    if (stamp === null)
      throw new NotFoundError('that recording is no longer on disk', 'PLAYBACK_SEGMENT_GONE');
    return seg.file;
  }

  /**
   * The playlist: the finished part as rendered before (extended by the segments finished since),
   * then the newest segment, read again (through the cache, one stat) as it may still grow.
   */
  private async playlistOf(s: Session): Promise<{ text: string; entries: number; durationS: number }> {
    const nowMs = this.clock.nowMs();
    if (s.stale || nowMs - s.revalidatedMs >= PLAYBACK_REVALIDATE_MS) {
      s.stale = false;
      s.revalidatedMs = nowMs;
      await this.serial(s, () => this.revalidate(s));
    }
    const asFile = (x: SessionSegment): PlaylistFile => ({
      uri: `${x.id}.mp4`,
      startMs: x.startMs,
      index: x.index,
    });
    const done = Math.max(0, s.ordered.length - 1);
    let fin = s.finished;
    if (!fin || fin.count > done) fin = { text: '', entries: 0, targetS: 0, durationS: 0, count: 0 };
    if (fin.count < done) {
      const more = playlistPart(
        s.ordered.slice(fin.count, done).map(asFile),
        s.fromMs,
        s.toMs,
        s.token,
        fin.entries > 0,
      );
      fin = {
        text: fin.text + more.text,
        entries: fin.entries + more.entries.length,
        targetS: Math.max(fin.targetS, more.targetS),
        durationS: fin.durationS + more.durationS,
        count: done,
      };
    }
    s.finished = fin;
    let tail: PlaylistPart | null = null;
    const newest = s.ordered[done];
    if (newest) {
      const index = await this.fragments.get(newest.file);
      if (index) {
        newest.index = index;
        newest.stamp = this.fragments.stampOf(newest.file);
        tail = playlistPart([asFile(newest)], s.fromMs, s.toMs, s.token, fin.entries > 0);
      } else s.stale = true; // gone: the next reload re-checks the session's files
    }
    s.targetS = Math.max(1, s.targetS, fin.targetS, tail?.targetS ?? 0);
    return {
      text: playlistHeader(s.targetS, s.toMs === null) + fin.text + (tail?.text ?? '') + playlistEnd(s.toMs),
      entries: fin.entries + (tail?.entries.length ?? 0),
      durationS: fin.durationS + (tail?.durationS ?? 0),
    };
  }

  /**
   * Every listed file against the disk: a changed one is read again, a gone one (or one no longer
   * fragmented MP4) leaves the playlist and its read-lock is released. The finished part is
   * rebuilt on the next render.
   */
  private async revalidate(s: Session): Promise<void> {
    s.finished = null;
    const gone: string[] = [];
    for (const seg of s.ordered) {
      const index = await this.fragments.get(seg.file);
      if (index) {
        seg.index = index;
        seg.stamp = this.fragments.stampOf(seg.file);
      } else gone.push(seg.id);
    }
    if (gone.length === 0 || s.closed) return;
    for (const id of gone) {
      s.segments.delete(id);
      if (s.remuxed.delete(id)) this.remux.release(id);
      await this.dropCopy(s, id);
    }
    s.ordered = s.ordered.filter((x) => s.segments.has(x.id));
    await this.unlock(gone);
  }

  /** Adds (and read-locks) the segments overlapping [from, to) the session does not list yet. */
  private async addSegments(s: Session, fromMs: number, toMs: number): Promise<void> {
    const added: string[] = [];
    let cursor = fromMs;
    for (;;) {
      const rows = await this.timeline.segmentsForExport(s.cameraId, iso(cursor), iso(toMs));
      for (const r of rows) {
        if (s.segments.has(r.id) || s.skipped.has(r.id)) continue;
        // The recorded file itself, or its remuxed copy; null: left out with its reason.
        const file = await this.servedFile(s, r);
        if (!file) continue;
        const index = await this.fragments.get(file);
        if (!index) continue; // servedFile read it a moment ago: gone since, a hole like any other
        const seg: SessionSegment = {
          id: r.id,
          file,
          startMs: Date.parse(r.startTime),
          endMs: Date.parse(r.endTime),
          index,
          stamp: this.fragments.stampOf(file),
        };
        s.segments.set(r.id, seg);
        // Ascending by start: a segment that sorts before the newest (a page boundary, a late
        // index) lands in place, and the finished part is rendered again.
        const last = s.ordered[s.ordered.length - 1];
        if (last && last.startMs > seg.startMs) {
          s.ordered.push(seg);
          s.ordered.sort((a, b) => a.startMs - b.startMs);
          s.finished = null;
        } else s.ordered.push(seg);
        added.push(r.id);
      }
      if (rows.length < PAGE) break;
      const next = Date.parse(rows[rows.length - 1].startTime);
      if (next <= cursor) break;
      cursor = next;
    }
    for (let i = 0; i < added.length; i += LOCK_CHUNK)
      await this.timeline.lockForRead(added.slice(i, i + LOCK_CHUNK), true);
    if (s.closed) await this.unlock(added); // closed meanwhile
  }

  /**
   * The file served for one indexed segment: the recorded file itself when it is fragmented MP4,
   * else its remuxed copy (made once, pinned while the session is open); null, with the reason kept
   * and logged, when neither (the segment is a hole of the session, never an error).
   */
  private async servedFile(s: Session, row: SegmentRef & { startTime: string }): Promise<string | null> {
    let r = row;
    if (this.segmentFiles.isRemote(row)) {
      // On another node's disk: a local copy, held while the session lists the segment.
      try {
        const local = await this.segmentFiles.local(s.principal, [row]);
        if (s.closed) {
          await local.release();
          return this.skip(s, row, 'the session closed');
        }
        s.copies.set(row.id, local.release);
        r = local.segs[0];
      } catch (err) {
        return this.skip(s, row, `not readable from node ${row.nodeId}: ${(err as Error).message}`);
      }
    }
    if (await this.fragments.get(r.file)) return r.file;
    const res = await this.remux.acquire(r.id, r.file);
    let reason = res.ok ? 'the remuxed copy is not readable fragmented MP4' : res.reason;
    if (res.ok) {
      if (s.closed) this.remux.release(r.id);
      else if (await this.fragments.get(res.path)) {
        s.remuxed.add(r.id);
        return res.path;
      } else this.remux.release(r.id);
      if (s.closed) reason = 'the session closed';
    }
    await this.dropCopy(s, r.id);
    return this.skip(s, r, reason);
  }

  /** Leaves a segment out of the session (a hole, never an error), with why. */
  private skip(s: Session, r: { id: string; startTime: string }, reason: string): null {
    s.skipped.set(r.id, { segment_id: r.id, start_time: r.startTime, reason });
    this.logger.warn({
      msg: 'segment left out of a playback session',
      sessionId: s.id,
      cameraId: s.cameraId,
      segmentId: r.id,
      reason,
    });
    return null;
  }

  private serial<T>(s: Session, fn: () => Promise<T>): Promise<T> {
    const next = s.chain.catch(() => undefined).then(fn);
    s.chain = next;
    return next;
  }

  private async unlock(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += LOCK_CHUNK)
      await this.timeline.lockForRead(ids.slice(i, i + LOCK_CHUNK), false);
  }

  private async release(s: Session): Promise<void> {
    s.closed = true;
    for (const id of s.remuxed) this.remux.release(id);
    s.remuxed.clear();
    for (const id of [...s.copies.keys()]) await this.dropCopy(s, id);
    await this.unlock([...s.segments.keys()]);
  }

  /** Removes the local copy of another node's segment the session held, if any. */
  private async dropCopy(s: Session, id: string): Promise<void> {
    const release = s.copies.get(id);
    if (!release) return;
    s.copies.delete(id);
    await release();
  }

  private async close(s: Session): Promise<void> {
    if (s.closed) return;
    this.sessions.delete(s.id);
    await this.serial(s, () => this.release(s));
  }

  private idle(s: Session, nowMs: number): boolean {
    return s.lastSeenMs < nowMs - this.config.playbackSessionTtlS * 1000;
  }

  /** Sessions nobody has requested anything of for HELDAR_PLAYBACK_SESSION_TTL_S are closed. */
  async reapIdle(): Promise<number> {
    const nowMs = this.clock.nowMs();
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (!this.idle(s, nowMs)) continue;
      await this.close(s);
      this.logger.log({ sessionId: s.id, cameraId: s.cameraId }, 'playback session expired (idle)');
      n++;
    }
    return n;
  }
}
