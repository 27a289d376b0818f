import { Inject, Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { HeldarConfig } from '../config/heldar-config';
import { Clock } from '../common/clock';
import { BadRequestError } from '../common/errors';
import { RecorderService } from '../recorder/recorder.service';
import type { GapsDto, RecordingGapDto, SegmentDto, TimelineDto } from './dto/timeline.dto';
import type { SegmentEntity } from './entities/segment.entity';
import { findHoles, holeCauses, mergeRanges, type Span } from './timeline-logic';
import { TimelineRepository } from './timeline.repository';

const iso = (ms: number) => new Date(ms).toISOString();
const secs = (ms: number) => Math.round(ms / 100) / 10;
const DAY_MS = 86_400_000;
/** Characters encodeURIComponent leaves as they are, and the `/` between parts. */
const URL_SAFE_PATH = /^[A-Za-z0-9\-_.!~*'()/]*$/;

export function toSegmentDto(s: SegmentEntity): SegmentDto {
  // `<camera>/<day>/<file>` (or an old flat `<camera>/<file>`): every part below the camera, encoded
  // (the recorder's own names need no encoding: they are used as they are).
  const cut = s.path.indexOf('/');
  const below = cut < 0 ? '' : s.path.slice(cut + 1);
  const file = URL_SAFE_PATH.test(below) ? below : below.split('/').map(encodeURIComponent).join('/');
  return {
    id: s.id,
    camera_id: s.cameraId,
    path: s.path,
    start_time: s.startTime,
    end_time: s.endTime,
    duration_s: s.durationS,
    codec: s.codec,
    width: s.width,
    height: s.height,
    fps: s.fps,
    size_bytes: s.sizeBytes,
    container: s.container,
    locked: s.locked,
    evidence_locked: s.evidenceLocked,
    incident_id: s.incidentId,
    // Rows from before recording modes have none: every camera recorded continuously then.
    kept_by: s.keptBy ?? 'continuous',
    created_at: s.createdAt,
    url: `/media/recordings/${encodeURIComponent(s.cameraId)}/${file}`,
  };
}

function window(from?: string, to?: string): { fromIso: string | null; toIso: string | null } {
  const fromIso = from ? new Date(from).toISOString() : null;
  const toIso = to ? new Date(to).toISOString() : null;
  if (fromIso && toIso && fromIso > toIso)
    throw new BadRequestError('from must not be after to', 'VALIDATION_FAILED');
  return { fromIso, toIso };
}

const spans = (rows: Array<{ start: string; end: string }>): Span[] =>
  rows.map((r) => ({ startMs: Date.parse(r.start), endMs: Date.parse(r.end) }));

/** Reads of the timeline: segments, merged ranges, holes with causes, recorded gaps. */
@Injectable()
export class TimelineService {
  constructor(
    private readonly repo: TimelineRepository,
    private readonly recorder: RecorderService,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  async listSegments(cameraId: string, from?: string, to?: string, limit = 500): Promise<SegmentDto[]> {
    const { fromIso, toIso } = window(from, to);
    return (await this.repo.segments(cameraId, fromIso, toIso, limit)).map(toSegmentDto);
  }

  async getTimeline(cameraId: string, from?: string, to?: string): Promise<TimelineDto> {
    const { fromIso, toIso } = window(from, to);
    const covered = await this.repo.coverageSpans(
      cameraId,
      fromIso ?? iso(0),
      toIso ?? iso(this.clock.nowMs() + DAY_MS),
    );
    const rows = spans(covered.spans);
    const lo = fromIso ? Date.parse(fromIso) : -Infinity;
    const hi = toIso ? Date.parse(toIso) : Infinity;
    const ranges = mergeRanges(rows)
      .map((r) => ({ startMs: Math.max(r.startMs, lo), endMs: Math.min(r.endMs, hi) }))
      .filter((r) => r.endMs > r.startMs);
    return {
      camera_id: cameraId,
      from: fromIso,
      to: toIso,
      ranges: ranges.map((r) => ({
        start: iso(r.startMs),
        end: iso(r.endMs),
        seconds: secs(r.endMs - r.startMs),
      })),
      recorded_seconds: secs(ranges.reduce((sum, r) => sum + r.endMs - r.startMs, 0)),
      segment_count: covered.segmentCount,
    };
  }

  /** Holes over 2 s in [from, to], each with its cause. As in the reference, a leading hole is
   * reported only when `from` is given and a trailing one only when `to` is (without `to`, the
   * segment being written right now would always look like a hole). */
  async getGaps(cameraId: string, from?: string, to?: string): Promise<GapsDto> {
    const { fromIso, toIso } = window(from, to);
    const nowMs = this.clock.nowMs();
    const segs = spans(
      (await this.repo.coverageSpans(cameraId, fromIso ?? iso(0), toIso ?? iso(nowMs + DAY_MS))).spans,
    );
    const fromMs = fromIso ? Date.parse(fromIso) : (segs[0]?.startMs ?? nowMs);
    let toMs = fromMs;
    if (toIso) toMs = Date.parse(toIso);
    else for (const x of segs) toMs = Math.max(toMs, x.endMs);
    const holes = findHoles(segs, fromMs, toMs);
    // The recorded gaps and recording stops of the window, each read once (not once per hole).
    // Both at once: on PostgreSQL two connections, one round trip of wall time instead of two.
    const [recorded, stops] =
      holes.length > 0
        ? await Promise.all([
            this.repo.gapsBetween(cameraId, iso(fromMs), iso(toMs)),
            this.recorder.stopsBetween(cameraId, holes[0].startMs, holes[holes.length - 1].endMs),
          ])
        : [[], []];
    const causes = holeCauses(holes, recorded, stops);
    const gaps = holes.map((h, i) => ({
      start: iso(h.startMs),
      end: iso(h.endMs),
      seconds: secs(h.endMs - h.startMs),
      cause: causes[i],
    }));
    return {
      camera_id: cameraId,
      from: iso(fromMs),
      to: iso(toMs),
      gaps,
      gap_count: gaps.length,
      total_gap_seconds: secs(gaps.reduce((sum, g) => sum + g.seconds * 1000, 0)),
    };
  }

  async listRecordingGaps(cameraId: string, state?: string, limit = 500): Promise<RecordingGapDto[]> {
    const rows = await this.repo.gaps(cameraId, limit, state);
    return rows.map((g) => ({
      id: g.id,
      camera_id: g.cameraId,
      gap_start: g.gapStart,
      gap_end: g.gapEnd,
      gap_seconds: g.gapSeconds,
      cause: g.cause,
      fill_state: g.fillState,
      created_at: g.createdAt,
    }));
  }

  /** Segments overlapping [from, to) for an export, ascending, with their absolute file paths. */
  async segmentsForExport(
    cameraId: string,
    fromIso: string,
    toIso: string,
  ): Promise<Array<SegmentEntity & { file: string }>> {
    const rows = await this.repo.segments(cameraId, fromIso, toIso, 5000);
    return rows.map((r) => ({ ...r, file: join(this.config.recordingsDirAbs, r.path) }));
  }

  /** Hold (or release) the transient read-lock of segments an export is reading; returns the ids
   * that still exist (held, on `hold`). */
  lockForRead(ids: string[], hold: boolean): Promise<string[]> {
    return this.repo.addReadLock(ids, hold ? 1 : -1);
  }

  /** The segment covering `atIso` (the latest one starting at or before it), with its file path. */
  async segmentAt(cameraId: string, atIso: string): Promise<(SegmentEntity & { file: string }) | null> {
    const rows = await this.repo.segments(cameraId, atIso, new Date(Date.parse(atIso) + 1).toISOString(), 50);
    const hit = rows.filter((r) => r.startTime <= atIso && r.endTime >= atIso).pop();
    return hit ? { ...hit, file: join(this.config.recordingsDirAbs, hit.path) } : null;
  }
}
