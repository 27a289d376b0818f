/**
 * Motion detection by frame differencing, as pure functions over pixel arrays (no I/O, no decoder):
 *
 *   RGB(A) frame ──toGrid──▶ grayscale, box-averaged into cells ──diff vs the previous grid──▶
 *   cells changed by more than `threshold` ──dilate (bridges small gaps)──▶ 8-connected components
 *   ──drop those under `minArea`──▶ normalized boxes with a confidence.
 *
 * Working on a coarse grid (about 160 cells across by default) makes the pass cheap, averages away
 * JPEG noise, and keeps a moving object in one blob.
 */

/** A grayscale image reduced to `width` × `height` cells of `cell` × `cell` source pixels each. */
export interface Grid {
  width: number;
  height: number;
  /** Mean luma (0..255) per cell, row-major. */
  data: Uint8Array;
  /** Source pixels per cell side. */
  cell: number;
  sourceWidth: number;
  sourceHeight: number;
}

export interface MotionOptions {
  /** A cell counts as changed when its luma differs by more than this (1..254). */
  threshold: number;
  /** Smallest region kept, as a fraction of the frame's area (0..1). */
  minArea: number;
  /** Cells across the grid (the source is box-averaged down to at most this width). */
  gridWidth: number;
  /** Dilation radius in cells before labelling, so one object's fragments join (0 = none). */
  dilate: number;
}

export const DEFAULT_MOTION: MotionOptions = { threshold: 25, minArea: 0.002, gridWidth: 160, dilate: 1 };

export interface MotionBox {
  /** Normalized `[x, y, w, h]`, origin top-left, 0..1. */
  bbox: [number, number, number, number];
  /**
   * Mean change of the region's changed cells relative to twice the threshold, capped at 1: a region
   * just over the threshold scores a little over 0.5, one twice as strong 1.
   */
  confidence: number;
  /** Changed area as a fraction of the frame. */
  area: number;
}

/** A connected region of changed cells, in grid cells. */
export interface Component {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  /** Changed cells (before dilation) in the region. */
  cells: number;
  /** Sum of their differences. */
  diffSum: number;
}

/**
 * Grayscale (BT.601 luma) and box-average in one pass. `channels` is 3 (RGB) or 4 (RGBA), as
 * jpeg-js decodes. The cell side is the smallest integer that fits the width into `gridWidth`;
 * the last partial row/column of cells is dropped (at most cell − 1 pixels).
 */
export function toGrid(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  gridWidth: number,
): Grid {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`bad frame size ${width}x${height}`);
  }
  if (pixels.length < width * height * channels) {
    throw new RangeError(`frame of ${width}x${height}x${channels} needs ${width * height * channels} bytes`);
  }
  const cell = Math.max(1, Math.ceil(width / Math.max(1, gridWidth)));
  const gw = Math.max(1, Math.floor(width / cell));
  const gh = Math.max(1, Math.floor(height / cell));
  const sums = new Uint32Array(gw * gh);
  const usedW = Math.min(width, gw * cell);
  const usedH = Math.min(height, gh * cell);
  for (let y = 0; y < usedH; y++) {
    const row = ((y / cell) | 0) * gw;
    let p = y * width * channels;
    for (let x = 0; x < usedW; x++, p += channels) {
      // Integer BT.601: (77 R + 150 G + 29 B) / 256.
      sums[row + ((x / cell) | 0)] += (77 * pixels[p] + 150 * pixels[p + 1] + 29 * pixels[p + 2]) >> 8;
    }
  }
  const perCell = Math.min(cell, usedW) * Math.min(cell, usedH);
  const data = new Uint8Array(gw * gh);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(sums[i] / perCell);
  return { width: gw, height: gh, data, cell, sourceWidth: width, sourceHeight: height };
}

/** |a − b| per cell. */
export function absDiff(a: Grid, b: Grid): Uint8Array {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(`grids differ in size (${a.width}x${a.height} vs ${b.width}x${b.height})`);
  }
  const out = new Uint8Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.abs(a.data[i] - b.data[i]);
  return out;
}

/** 1 where the difference exceeds `threshold`. */
export function thresholdMask(diff: Uint8Array, threshold: number): Uint8Array {
  const mask = new Uint8Array(diff.length);
  for (let i = 0; i < diff.length; i++) mask[i] = diff[i] > threshold ? 1 : 0;
  return mask;
}

/** Square dilation of a 0/1 mask by `radius` cells (separable: rows, then columns). */
export function dilate(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  if (radius <= 0) return mask.slice();
  const rows = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    const base = y * width;
    for (let x = 0; x < width; x++) {
      const lo = Math.max(0, x - radius);
      const hi = Math.min(width - 1, x + radius);
      for (let k = lo; k <= hi; k++) {
        if (mask[base + k]) {
          rows[base + x] = 1;
          break;
        }
      }
    }
  }
  const out = new Uint8Array(mask.length);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const lo = Math.max(0, y - radius);
      const hi = Math.min(height - 1, y + radius);
      for (let k = lo; k <= hi; k++) {
        if (rows[k * width + x]) {
          out[y * width + x] = 1;
          break;
        }
      }
    }
  }
  return out;
}

/**
 * 8-connected components of `region` (the dilated mask). Each component's extent, cell count and
 * difference sum come from the `hot` cells only (the undilated mask), so dilation joins fragments
 * without inflating the box. Components are returned in raster order of their first cell.
 */
export function components(
  region: Uint8Array,
  hot: Uint8Array,
  diff: Uint8Array,
  width: number,
  height: number,
): Component[] {
  const seen = new Uint8Array(region.length);
  const stack = new Int32Array(region.length);
  const out: Component[] = [];
  for (let start = 0; start < region.length; start++) {
    if (!region[start] || seen[start]) continue;
    const c: Component = { minX: width, minY: height, maxX: -1, maxY: -1, cells: 0, diffSum: 0 };
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const i = stack[--top];
      const x = i % width;
      const y = (i - x) / width;
      if (hot[i]) {
        c.cells++;
        c.diffSum += diff[i];
        if (x < c.minX) c.minX = x;
        if (x > c.maxX) c.maxX = x;
        if (y < c.minY) c.minY = y;
        if (y > c.maxY) c.maxY = y;
      }
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width || (dx === 0 && dy === 0)) continue;
          const j = ny * width + nx;
          if (region[j] && !seen[j]) {
            seen[j] = 1;
            stack[top++] = j;
          }
        }
      }
    }
    if (c.cells > 0) out.push(c);
  }
  return out;
}

/** Moving regions between two grids of the same size, largest first. */
export function detectMotion(prev: Grid, cur: Grid, opts: MotionOptions = DEFAULT_MOTION): MotionBox[] {
  const { width, height } = cur;
  const diff = absDiff(prev, cur);
  const hot = thresholdMask(diff, opts.threshold);
  const region = dilate(hot, width, height, opts.dilate);
  const cellArea = cur.cell * cur.cell;
  const frameArea = cur.sourceWidth * cur.sourceHeight;
  const boxes: MotionBox[] = [];
  for (const c of components(region, hot, diff, width, height)) {
    const area = (c.cells * cellArea) / frameArea;
    if (area < opts.minArea) continue;
    const x = (c.minX * cur.cell) / cur.sourceWidth;
    const y = (c.minY * cur.cell) / cur.sourceHeight;
    const w = Math.min(1 - x, ((c.maxX - c.minX + 1) * cur.cell) / cur.sourceWidth);
    const h = Math.min(1 - y, ((c.maxY - c.minY + 1) * cur.cell) / cur.sourceHeight);
    // Rounded apart, x and w could add up past 1 (0.66665 + 0.33335 → 0.6667 + 0.3334).
    const [x0, y0] = [round4(x), round4(y)];
    boxes.push({
      bbox: [x0, y0, Math.min(round4(w), round4(1 - x0)), Math.min(round4(h), round4(1 - y0))],
      confidence: round4(Math.min(1, c.diffSum / c.cells / (2 * opts.threshold))),
      area: round4(area),
    });
  }
  return boxes.sort((a, b) => b.area - a.area);
}

const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

/**
 * Keeps the previous grid of one stream and reports what moved since. The first frame, and the
 * first after a change of frame size (the sampler was re-granted a narrower width), only prime it.
 */
export class MotionDetector {
  private prev: Grid | null = null;

  constructor(private readonly opts: MotionOptions = DEFAULT_MOTION) {}

  /** `pixels` as decoded (RGB or RGBA): the moving regions since the previous call. */
  next(pixels: Uint8Array, width: number, height: number, channels: number): MotionBox[] {
    const grid = toGrid(pixels, width, height, channels, this.opts.gridWidth);
    const prev = this.prev;
    this.prev = grid;
    if (!prev || prev.sourceWidth !== width || prev.sourceHeight !== height) return [];
    return detectMotion(prev, grid, this.opts);
  }

  reset(): void {
    this.prev = null;
  }
}
