import { join } from 'node:path';
import type { StorageAdapter } from '../media/storage.adapter';
import { recorderDayDirs } from './recording-layout';

/** A segment ffmpeg has just closed (reported on its stdout segment list). */
export interface ClosedSegment {
  cameraId: string;
  /** The file's name; it lives in `<camera>/<its UTC day>/`. */
  name: string;
  /** When the kernel read ffmpeg's line (epoch ms). */
  reportedAtMs: number;
}

/**
 * What the recorder tells whoever indexes its files, without knowing who that is: each segment as
 * ffmpeg closes it, and each end of a recorder run (its last file may have closed without a line).
 */
export interface RecorderListener {
  segmentClosed(s: ClosedSegment): void;
  recorderExited(cameraId: string, atMs: number): void;
}

/** Make today's and tomorrow's day folders of a camera (ffmpeg's strftime opens files in folders
 * it does not create); the clock is the caller's, so a start at 23:59:59 already has tomorrow's. */
export async function ensureDayDirs(
  storage: Pick<StorageAdapter, 'ensureDir'>,
  cameraDir: string,
  nowMs: number,
): Promise<string[]> {
  const days = recorderDayDirs(nowMs);
  for (const day of days) await storage.ensureDir(join(cameraDir, day));
  return days;
}
