/**
 * AI frame sampler — global fps budget allocation (reference §5.Sampler, `services/sampler.rs`).
 *
 * A pure function: given one request per (camera, stream profile) — fps/width being the maximum
 * over that camera+profile's enabled AI tasks — and the global budget, decide what every sampler
 * gets. Costs are in "full-width fps" units: decoding `fps` frames per second scaled to `width`
 * costs `fps × (width / requestedWidth)²`.
 *
 * Reference algorithm (priority-greedy with a resolution ladder), followed here:
 * - order by priority DESC, cameraId, profile; MIN_FPS 0.5 (requests below it are raised to it);
 * - `run = min(#samplers, floor(budget / 0.125))` (0.125 = cost of 0.5 fps at half width);
 *   samplers beyond `run` are shed (`budget_exhausted`, fps 0);
 * - walking with `remaining = budget` and `others` = samplers still after this one:
 *   if `remaining − 0.5×others ≥ 0.5` grant `max(min(fps, remaining − 0.5×others), 0.5)` at full
 *   width; else try the ladder [1.0, 0.75, 0.5] at 0.5 fps with width
 *   `max(round(width×step), 320)`, taking the first step whose cost fits in
 *   `remaining − 0.125×others`; if none fits the sampler is shed.
 *
 * Deviations (each needed for the invariants checked in budget.spec.ts — the budget is never
 * exceeded, and a higher-priority sampler never gets less than a lower-priority one):
 * 1. No `max(budget, 1)` floor here: the budget is used as given (negative/NaN → 0). The 1.0 floor
 *    belongs to the `HELDAR_AI_MAX_TOTAL_FPS` config reader; applying it here would let the sum of
 *    grants exceed a budget below 1 passed by a caller.
 * 2. Ladder widths never upscale: `min(requestedWidth, max(round(width×step), 320))`. With the
 *    reference formula a request narrower than 320 px would be "downgraded" to 320 px, i.e. a
 *    wider frame than asked for, at a cost above the full-width cost.
 * 3. `others` counts only the later samplers that can still be granted (inside `run`, and not
 *    already doomed by rule 4). Counting samplers beyond `run` (or doomed ones) reserves budget
 *    nobody will use and can shed a high-priority sampler while a lower-priority one is granted
 *    (e.g. budget 0.3, three 1920 px samplers: counting all of them sheds the first one).
 * 4. Monotone shedding: once a sampler of priority p is shed, every later sampler with priority
 *    strictly below p is shed too (equal priorities may still be granted). Otherwise a wide
 *    low-priority sampler (cheap ladder floor, 0.125) could be granted after a narrow
 *    higher-priority one (floor up to 0.5) was shed.
 * 5. Priority cap: a sampler's cost never exceeds the cost granted to any earlier sampler of
 *    strictly higher priority that requested at least as many fps. The discrete ladder (and the
 *    rounding of its widths, and the 320 px floor) otherwise lets a lower-priority sampler land on
 *    a more expensive rung than a higher-priority one. When the cap — not the budget — is what
 *    blocks the last rung, the width is lowered just enough to fit under the cap (but not below
 *    `min(320, requestedWidth)`); if even that does not fit, the sampler is shed.
 *
 * State: `granted` when the sampler gets everything it asked for (fps raised to 0.5 counts as
 * asked), `downgraded` when it gets less fps or a narrower width, `budget_exhausted` when shed.
 */

export interface SamplerRequest {
  cameraId: string;
  profile: 'main' | 'sub';
  /** Max fps over the enabled tasks of this camera+profile. */
  fps: number;
  /** Max width over the enabled tasks of this camera+profile. */
  width: number;
  priority: number;
}

export interface SamplerGrant {
  cameraId: string;
  profile: 'main' | 'sub';
  state: 'granted' | 'downgraded' | 'budget_exhausted';
  /** 0 iff shed; otherwise 0.5 ≤ fps ≤ max(requested, 0.5). */
  fps: number;
  /** min(320, requested) ≤ width ≤ requested; the requested width when shed. */
  width: number;
  /** `fps × (width / requestedWidth)²`, in full-width fps units; 0 when shed. */
  cost: number;
}

export const MIN_FPS = 0.5;
export const LADDER: readonly number[] = [1.0, 0.75, 0.5];
export const MIN_WIDTH = 320;
/** Cost of MIN_FPS at the smallest ladder step: 0.5 × 0.5². */
export const FLOOR_COST = MIN_FPS * LADDER[LADDER.length - 1] ** 2;

/** `fps × (width / requestedWidth)²`. */
export function samplerCost(fps: number, width: number, requestedWidth: number): number {
  const r = width / requestedWidth;
  return fps * r * r;
}

function comparePriority(a: number, b: number): number {
  const pa = Number.isNaN(a) ? -Infinity : a;
  const pb = Number.isNaN(b) ? -Infinity : b;
  return pa === pb ? 0 : pa > pb ? -1 : 1;
}

function compareStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** priority DESC, then cameraId, then profile (code-unit order, locale independent). */
export function compareRequests(a: SamplerRequest, b: SamplerRequest): number {
  return (
    comparePriority(a.priority, b.priority) ||
    compareStr(a.cameraId, b.cameraId) ||
    compareStr(a.profile, b.profile)
  );
}

function shed(r: SamplerRequest): SamplerGrant {
  return {
    cameraId: r.cameraId,
    profile: r.profile,
    state: 'budget_exhausted',
    fps: 0,
    width: r.width, // what it asked for (informational: a shed sampler does not run)
    cost: 0,
  };
}

export function allocate(requests: SamplerRequest[], budgetFps: number): SamplerGrant[] {
  // Array.prototype.sort is stable: exact duplicates keep their input order.
  const ordered = [...requests].sort(compareRequests);
  const n = ordered.length;
  const budget = budgetFps > 0 ? budgetFps : 0; // NaN and negatives → 0 (deviation 1)
  const run = Math.min(n, Math.floor(budget / FLOOR_COST));

  const grants: SamplerGrant[] = [];
  let remaining = budget;
  /** Priority of the first shed sampler (deviation 4); lower priorities after it are doomed. */
  let shedPriority: number | null = null;
  const doomed = (j: number): boolean =>
    j >= run || (shedPriority !== null && comparePriority(ordered[j].priority, shedPriority) > 0);

  for (let i = 0; i < n; i++) {
    const r = ordered[i];
    const wantFps = r.fps > MIN_FPS ? r.fps : MIN_FPS; // NaN/below → MIN_FPS
    const wReq = r.width;

    let grant: SamplerGrant | null = null;
    if (!doomed(i) && wReq > 0 && Number.isFinite(wReq)) {
      // Deviation 5: the cost cap from earlier, strictly-higher-priority samplers that asked for
      // at least as many fps. A shed one has cost 0, so it caps this one to "shed".
      let cap = Infinity;
      for (let j = 0; j < i; j++) {
        const a = ordered[j];
        if (comparePriority(a.priority, r.priority) < 0 && a.fps >= r.fps) {
          cap = Math.min(cap, grants[j].cost);
        }
      }

      let others = 0; // deviation 3
      for (let j = i + 1; j < n; j++) if (!doomed(j)) others++;

      const full = remaining - MIN_FPS * others;
      if (full >= MIN_FPS && cap >= MIN_FPS) {
        const fps = Math.min(wantFps, full, cap); // ≥ MIN_FPS: every operand is
        grant = {
          cameraId: r.cameraId,
          profile: r.profile,
          state: fps < wantFps ? 'downgraded' : 'granted',
          fps,
          width: wReq,
          cost: fps,
        };
      } else {
        const fit = remaining - FLOOR_COST * others;
        const limit = Math.min(fit, cap);
        const minWidth = Math.min(MIN_WIDTH, wReq);
        let width = 0;
        let cost = Infinity;
        for (const step of LADDER) {
          const w = Math.min(wReq, Math.max(Math.round(wReq * step), MIN_WIDTH)); // deviation 2
          const c = samplerCost(MIN_FPS, w, wReq);
          width = w;
          cost = c;
          if (c <= limit) break;
        }
        if (cost > limit && cost <= fit) {
          // Only the priority cap blocks the last rung: fit the width under the cap.
          let w = Math.floor(wReq * Math.sqrt(cap / MIN_FPS));
          while (w >= minWidth && samplerCost(MIN_FPS, w, wReq) > cap) w--;
          width = w;
          cost = samplerCost(MIN_FPS, w, wReq);
          if (w < minWidth || w <= 0) cost = Infinity;
        }
        if (cost <= limit) {
          grant = {
            cameraId: r.cameraId,
            profile: r.profile,
            state: width < wReq || MIN_FPS < wantFps ? 'downgraded' : 'granted',
            fps: MIN_FPS,
            width,
            cost,
          };
        }
      }
    }

    if (grant) {
      remaining = Math.max(0, remaining - grant.cost);
    } else {
      grant = shed(r);
      if (shedPriority === null) shedPriority = r.priority;
    }
    grants.push(grant);
  }
  return grants;
}
