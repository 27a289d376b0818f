/**
 * A centroid tracker: gives each box a track id that stays the same while the object keeps moving
 * a little between frames. Pure logic, one instance per camera stream.
 *
 * Each frame, every (track, box) pair whose centroids are at most `maxDistance` apart (normalized
 * units) is a candidate; pairs are taken nearest first, each track and each box at most once.
 * A box left over starts a new track (ids count up from 1 and are never reused). A track left over
 * counts a miss; after more than `maxMissed` consecutive misses it is dropped, so an object that
 * stops moving, or leaves, ends its track.
 */

export interface TrackerOptions {
  /** Largest centroid move between two frames still taken as the same object (normalized units). */
  maxDistance: number;
  /** Consecutive frames a track may go unmatched and still be resumed. */
  maxMissed: number;
}

export const DEFAULT_TRACKER: TrackerOptions = { maxDistance: 0.2, maxMissed: 3 };

export interface Track {
  id: number;
  /** Centroid of the last matched box. */
  cx: number;
  cy: number;
  /** Consecutive unmatched frames. */
  missed: number;
  /** Frames matched since the track started (including the first). */
  hits: number;
}

type Bbox = readonly [number, number, number, number] | readonly number[];

export class CentroidTracker {
  private readonly tracks = new Map<number, Track>();
  private nextId = 1;

  constructor(private readonly opts: TrackerOptions = DEFAULT_TRACKER) {}

  /** Feed one frame's boxes (possibly none); returns the track id of each box, in order. */
  update(boxes: ReadonlyArray<{ bbox: Bbox }>): number[] {
    const centroids = boxes.map(({ bbox }) => [bbox[0] + bbox[2] / 2, bbox[1] + bbox[3] / 2] as const);
    const pairs: Array<{ track: Track; box: number; d: number }> = [];
    for (const track of this.tracks.values()) {
      centroids.forEach(([cx, cy], box) => {
        const d = Math.hypot(cx - track.cx, cy - track.cy);
        if (d <= this.opts.maxDistance) pairs.push({ track, box, d });
      });
    }
    // Nearest first; ties by older track, then by box order, so the result is deterministic.
    pairs.sort((a, b) => a.d - b.d || a.track.id - b.track.id || a.box - b.box);
    const ids = new Array<number>(boxes.length).fill(0);
    const matched = new Set<number>();
    for (const { track, box } of pairs) {
      if (ids[box] !== 0 || matched.has(track.id)) continue;
      ids[box] = track.id;
      matched.add(track.id);
      [track.cx, track.cy] = centroids[box];
      track.missed = 0;
      track.hits++;
    }
    for (const track of [...this.tracks.values()]) {
      if (matched.has(track.id)) continue;
      track.missed++;
      if (track.missed > this.opts.maxMissed) this.tracks.delete(track.id);
    }
    centroids.forEach(([cx, cy], box) => {
      if (ids[box] !== 0) return;
      const track: Track = { id: this.nextId++, cx, cy, missed: 0, hits: 1 };
      this.tracks.set(track.id, track);
      ids[box] = track.id;
    });
    return ids;
  }

  /** The live tracks (a copy), oldest first. */
  active(): Track[] {
    return [...this.tracks.values()].map((t) => ({ ...t }));
  }
}
