/**
 * The recording layout, one place for the recorder that writes it and the timeline that indexes
 * it: `<camera>/<YYYY-MM-DD>/<YYYYmmdd_HHMMSS>.mp4`, named by the UTC time ffmpeg opens the file
 * (the pattern `buildRecordArgs` hands ffmpeg), one folder per UTC day, and the line ffmpeg's live
 * segment list writes as each file closes. Pure: names and paths in, names and paths out.
 */

const NAME = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})Z?\.mp4$/;

/** `20261122_101500.mp4` (UTC) → epoch ms; null when the name is not a segment name. */
export function parseSegmentName(name: string): number | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  return back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && h < 24 && mi < 60 && s < 61 ? ms : null;
}

const DAY_DIR = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** The UTC day folder of an instant: `2026-12-02`. */
export function dayDirName(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** True for a day folder name (`2026-12-02`, a real date). */
export function isDayDir(name: string): boolean {
  const m = DAY_DIR.exec(name);
  if (!m) return false;
  return dayDirName(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) === name;
}

/** Epoch ms of the start of a day folder's UTC day. */
export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/** The day folder a segment file belongs in (from its name: ffmpeg names and files it by the same
 * strftime call); null when the name is not a segment name. */
export function segmentDay(name: string): string | null {
  const ms = parseSegmentName(name);
  return ms === null ? null : dayDirName(ms);
}

/** The row path of a segment file: `<camera>/<day>/<name>`; null for a name that is no segment. */
export function segmentRelPath(cameraId: string, name: string): string | null {
  const day = segmentDay(name);
  return day === null ? null : `${cameraId}/${day}/${name}`;
}

/** Day folders a recorder needs at `nowMs`: today's and tomorrow's (ffmpeg's strftime opens a file
 * in a folder it does not create, so the next day's exists before midnight). */
export function recorderDayDirs(nowMs: number): string[] {
  return [dayDirName(nowMs), dayDirName(nowMs + DAY_MS)];
}

export interface SegmentListEntry {
  /** The file's name as ffmpeg wrote it (no folder). */
  name: string;
  startS: number;
  endS: number;
}

/**
 * One line of ffmpeg's live CSV segment list (`-segment_list pipe:1 -segment_list_type csv`),
 * written as each segment closes: `20261202_034532.mp4,0.000000,2.000000`. Null for anything else
 * (a name that is no segment name, a path, a quoted name, a malformed time).
 */
export function parseSegmentListLine(line: string): SegmentListEntry | null {
  const parts = line.trim().split(',');
  if (parts.length !== 3) return null;
  const [name, a, b] = parts;
  if (parseSegmentName(name) === null) return null;
  const startS = Number(a);
  const endS = Number(b);
  if (a === '' || b === '' || !Number.isFinite(startS) || !Number.isFinite(endS) || endS < startS)
    return null;
  return { name, startS, endS };
}
