import fc from 'fast-check';
import { allocate, type SamplerGrant, type SamplerRequest } from './budget';

function req(
  cameraId: string,
  priority: number,
  fps: number,
  width: number,
  profile: 'main' | 'sub' = 'sub',
): SamplerRequest {
  return { cameraId, profile, fps, width, priority };
}

const sumCost = (gs: SamplerGrant[]): number => gs.reduce((s, g) => s + g.cost, 0);

/** What the test expects the output order to be, computed independently of budget.ts. */
function expectedOrder(requests: SamplerRequest[]): SamplerRequest[] {
  return requests
    .map((r, i) => ({ r, i }))
    .sort((x, y) => {
      if (x.r.priority !== y.r.priority) return y.r.priority - x.r.priority;
      if (x.r.cameraId !== y.r.cameraId) return x.r.cameraId < y.r.cameraId ? -1 : 1;
      if (x.r.profile !== y.r.profile) return x.r.profile === 'main' ? -1 : 1;
      return x.i - y.i;
    })
    .map((x) => x.r);
}

describe('allocate — reference behaviours', () => {
  it('grants everyone what they asked for when the budget is large enough', () => {
    const g = allocate([req('cam_b', 1, 3, 640), req('cam_a', 5, 2, 1280, 'main')], 10);
    expect(g).toEqual([
      { cameraId: 'cam_a', profile: 'main', state: 'granted', fps: 2, width: 1280, cost: 2 },
      { cameraId: 'cam_b', profile: 'sub', state: 'granted', fps: 3, width: 640, cost: 3 },
    ]);
  });

  it('returns nothing for no requests', () => {
    expect(allocate([], 10)).toEqual([]);
  });

  it('caps fps at full width while the budget covers 0.5 fps for everyone after', () => {
    // A: remaining 4 − 0.5×1 = 3.5 ≥ 3 → 3 fps; B: remaining 1 → 1 fps at full width.
    const g = allocate([req('a', 10, 3, 1280), req('b', 5, 3, 1280)], 4);
    expect(g.map((x) => [x.state, x.fps, x.width, x.cost])).toEqual([
      ['granted', 3, 1280, 3],
      ['downgraded', 1, 1280, 1],
    ]);
  });

  it('walks the resolution ladder on a tight budget, lowest priority downgraded most', () => {
    // budget 1.0 < 0.5 × 3: A 0.5 fps @ 1.0 (0.5), B @ 0.75 (0.28125), C @ 0.5 (0.125).
    const g = allocate([req('c', 1, 5, 1920), req('a', 3, 5, 1920), req('b', 2, 5, 1920)], 1);
    expect(g.map((x) => [x.cameraId, x.state, x.fps, x.width, x.cost])).toEqual([
      ['a', 'downgraded', 0.5, 1920, 0.5],
      ['b', 'downgraded', 0.5, 1440, 0.28125],
      ['c', 'downgraded', 0.5, 960, 0.125],
    ]);
    expect(sumCost(g)).toBeLessThanOrEqual(1);
  });

  it('sheds samplers beyond run = floor(budget / 0.125)', () => {
    // run = floor(0.3 / 0.125) = 2: the third is shed; the first two fit at the 0.5 rung.
    const g = allocate([req('a', 3, 5, 1920), req('b', 2, 5, 1920), req('c', 1, 5, 1920)], 0.3);
    expect(g.map((x) => [x.cameraId, x.state, x.fps, x.width, x.cost])).toEqual([
      ['a', 'downgraded', 0.5, 960, 0.125],
      ['b', 'downgraded', 0.5, 960, 0.125],
      ['c', 'budget_exhausted', 0, 1920, 0],
    ]);
  });

  it('sheds everyone when the budget is below the floor cost (no max(budget, 1) floor here)', () => {
    for (const budget of [0.1, 0, -5, Number.NaN]) {
      const g = allocate([req('a', 1, 1, 1920)], budget);
      expect(g).toEqual([
        { cameraId: 'a', profile: 'sub', state: 'budget_exhausted', fps: 0, width: 1920, cost: 0 },
      ]);
    }
  });

  it('sheds a sampler inside run when no ladder rung fits', () => {
    // A takes the 0.75 rung (0.28125); B (400 px) costs ≥ 0.32 on every rung > 0.21875 left.
    const g = allocate([req('a', 2, 1, 1920), req('b', 1, 1, 400)], 0.5);
    expect(g.map((x) => [x.cameraId, x.state, x.width, x.cost])).toEqual([
      ['a', 'downgraded', 1440, 0.28125],
      ['b', 'budget_exhausted', 400, 0],
    ]);
  });

  it('raises a request under 0.5 fps to 0.5 fps', () => {
    const g = allocate([req('a', 1, 0.1, 1280)], 10);
    expect(g).toEqual([
      { cameraId: 'a', profile: 'sub', state: 'granted', fps: 0.5, width: 1280, cost: 0.5 },
    ]);
  });

  it('never goes below 320 px on the ladder', () => {
    // B (400 px): the 0.75 rung would be 300 px → 320 px, cost 0.5 × (320/400)² = 0.32.
    const g = allocate([req('a', 2, 1, 1920), req('b', 1, 1, 400)], 0.9);
    expect(g[1]).toEqual({
      cameraId: 'b',
      profile: 'sub',
      state: 'downgraded',
      fps: 0.5,
      width: 320,
      cost: 0.5 * (320 / 400) ** 2,
    });
  });

  it('orders by priority DESC, then cameraId, then profile — deterministically', () => {
    const input = [
      req('cam_b', 1, 1, 640, 'sub'),
      req('cam_a', 1, 1, 640, 'sub'),
      req('cam_z', 9, 1, 640, 'sub'),
      req('cam_a', 1, 1, 640, 'main'),
      req('cam_c', 5, 1, 640, 'main'),
    ];
    const keys = (gs: SamplerGrant[]) => gs.map((g) => `${g.cameraId}/${g.profile}`);
    const expected = ['cam_z/sub', 'cam_c/main', 'cam_a/main', 'cam_a/sub', 'cam_b/sub'];
    expect(keys(allocate(input, 100))).toEqual(expected);
    expect(keys(allocate([...input].reverse(), 100))).toEqual(expected);
    expect(allocate([...input].reverse(), 1.3)).toEqual(allocate(input, 1.3));
    // the input array is not mutated
    expect(input[0].cameraId).toBe('cam_b');
  });
});

describe('allocate — deviations from the reference (see budget.ts)', () => {
  it('does not upscale a request narrower than 320 px on the ladder', () => {
    // Reference: max(240, 320) = 320 px at cost 0.889 > 0.75 → the top-priority sampler shed
    // while the two below are granted. Here it stays 240 px at cost 0.5.
    const g = allocate([req('c', 3, 5, 240), req('a', 2, 5, 1920), req('b', 1, 5, 1920)], 1);
    expect(g.map((x) => [x.cameraId, x.state, x.width, x.cost])).toEqual([
      ['c', 'downgraded', 240, 0.5],
      ['a', 'downgraded', 1440, 0.28125],
      ['b', 'downgraded', 960, 0.125],
    ]);
  });

  it('sheds lower priorities once a higher priority was shed', () => {
    // B (400 px) cannot fit; C (3840 px) would fit at 0.125 but has lower priority than B.
    const g = allocate([req('a', 3, 1, 1920), req('b', 2, 1, 400), req('c', 1, 1, 3840)], 0.5);
    expect(g.map((x) => [x.cameraId, x.state])).toEqual([
      ['a', 'downgraded'],
      ['b', 'budget_exhausted'],
      ['c', 'budget_exhausted'],
    ]);
  });

  it('caps a lower priority at the cost of a higher one that asked for as many fps', () => {
    // A (3840 px) lands on the 0.5 rung, 0.125. B (600 px): its 0.5 rung is 320 px at 0.142 —
    // within budget but more than A got → shed (320 px is B's floor).
    let g = allocate([req('a', 2, 5, 3840), req('b', 1, 5, 600)], 0.4);
    expect(g.map((x) => [x.state, x.width, x.cost])).toEqual([
      ['downgraded', 1920, 0.125],
      ['budget_exhausted', 600, 0],
    ]);
    // Rounding: B (1367 px) rung 0.5 = round(683.5) = 684 px → 0.12518 > 0.125 → fitted to 683 px.
    g = allocate([req('a', 2, 5, 3840), req('b', 1, 5, 1367)], 0.4);
    expect(g[1].state).toBe('downgraded');
    expect(g[1].width).toBe(683);
    expect(g[1].cost).toBeLessThanOrEqual(g[0].cost);
    // No cap when A asked for fewer fps than B: reference behaviour (B at 320 px, 0.142).
    g = allocate([req('a', 2, 1, 3840), req('b', 1, 5, 600)], 0.4);
    expect(g[1]).toMatchObject({ state: 'downgraded', width: 320, cost: 0.5 * (320 / 600) ** 2 });
  });
});

describe('allocate — properties', () => {
  const request = fc.record({
    cameraId: fc.constantFrom('cam_a', 'cam_b', 'cam_c', 'cam_d', 'cam_e', 'cam_f', 'cam_g'),
    profile: fc.constantFrom('main' as const, 'sub' as const),
    fps: fc.oneof(
      fc.double({ min: 0.1, max: 30, noNaN: true }),
      fc.constantFrom(0.1, 0.25, 0.5, 1, 2, 5, 15, 30),
    ),
    width: fc.oneof(
      fc.integer({ min: 160, max: 3840 }),
      fc.constantFrom(160, 240, 320, 400, 600, 640, 1280, 1367, 1920, 3840),
    ),
    priority: fc.integer({ min: 0, max: 10 }),
  });
  // size 'max': lengths spread over the whole 0..80, not fast-check's small default (~0..10).
  const requests = fc.array(request, { minLength: 0, maxLength: 80, size: 'max' });
  // Both ranges lie in 0.1..200; the second concentrates runs on tight budgets (ladder, shedding).
  const budget = fc.oneof(
    fc.double({ min: 0.1, max: 200, noNaN: true }),
    fc.double({ min: 0.1, max: 12, noNaN: true }),
  );
  const opts = { numRuns: 1000 };
  const quick = { numRuns: 500 };

  it('returns one grant per request, in priority/cameraId/profile order, deterministically', () => {
    fc.assert(
      fc.property(requests, budget, (rs, b) => {
        const key = (x: { cameraId: string; profile: string }) => `${x.cameraId}/${x.profile}`;
        const same = (xs: string[], ys: string[]) =>
          xs.length === ys.length && xs.every((x, i) => x === ys[i]);
        const g = allocate(rs, b);
        const rev = [...rs].reverse();
        return (
          same(g.map(key), expectedOrder(rs).map(key)) &&
          same(allocate(rev, b).map(key), expectedOrder(rev).map(key)) &&
          JSON.stringify(allocate(rs, b)) === JSON.stringify(g)
        );
      }),
      quick,
    );
  });

  // Properties return booleans rather than calling expect(): expect() in these inner loops
  // (up to 80² pairs per case) would dominate the run time.

  it('(a) the granted costs never sum above max(budget, 0)', () => {
    fc.assert(
      fc.property(requests, budget, (rs, b) => sumCost(allocate(rs, b)) <= Math.max(b, 0) + 1e-9),
      opts,
    );
  });

  /**
   * "A higher-priority sampler never gets less than a lower-priority one": for every pair of
   * requests A, B with A.priority > B.priority (strictly):
   *   1. A is not shed while B is granted or downgraded (shed(A) ⇒ shed(B));
   *   2. if A asked for at least as many fps as B (A.fps ≥ B.fps, as requested), then
   *      A's cost ≥ B's cost (cost in full-width fps units, 0 when shed) — exactly, no slack.
   * Equal priorities are unconstrained (ties are broken by cameraId/profile order).
   */
  it('(b) no higher-priority sampler gets less than a lower-priority one', () => {
    fc.assert(
      fc.property(requests, budget, (rs, b) => {
        const g = allocate(rs, b);
        const order = expectedOrder(rs);
        for (let i = 0; i < g.length; i++) {
          for (let j = i + 1; j < g.length; j++) {
            const A = order[i];
            const B = order[j];
            if (!(A.priority > B.priority)) continue;
            if (g[i].state === 'budget_exhausted' && g[j].state !== 'budget_exhausted') return false;
            if (A.fps >= B.fps && !(g[i].cost >= g[j].cost)) return false;
          }
        }
        return true;
      }),
      opts,
    );
  });

  /**
   * Shed ⇔ fps 0 (and cost 0). Otherwise 0.5 ≤ fps ≤ max(requested, 0.5),
   * cost = fps × (width / requested width)², and state is `granted` exactly when nothing was
   * taken away. Always (shed grants report the requested width):
   * min(320, requested width) ≤ width ≤ requested width.
   */
  it('(c) fps is 0 iff shed, else within [0.5, max(requested, 0.5)]; width within bounds', () => {
    fc.assert(
      fc.property(requests, budget, (rs, b) => {
        const g = allocate(rs, b);
        const order = expectedOrder(rs);
        return g.every((x, i) => {
          const r = order[i];
          const widthOk = x.width >= Math.min(320, r.width) && x.width <= r.width;
          if (x.state === 'budget_exhausted') return x.fps === 0 && x.cost === 0 && widthOk;
          const complete = x.fps >= Math.max(r.fps, 0.5) && x.width === r.width;
          return (
            x.fps >= 0.5 &&
            x.fps <= Math.max(r.fps, 0.5) &&
            widthOk &&
            Math.abs(x.cost - x.fps * (x.width / r.width) ** 2) <= 1e-12 &&
            x.state === (complete ? 'granted' : 'downgraded')
          );
        });
      }),
      opts,
    );
  });

  it('is not needlessly stingy: 0.5 fps of budget per sampler sheds nobody and keeps widths', () => {
    fc.assert(
      fc.property(requests, budget, (rs, b) => {
        const g = allocate(rs, b);
        const order = expectedOrder(rs);
        if (b >= 0.5 * rs.length) {
          if (!g.every((x, i) => x.state !== 'budget_exhausted' && x.width === order[i].width)) {
            return false;
          }
        }
        const want = rs.reduce((s, r) => s + Math.max(r.fps, 0.5), 0);
        return b < want || g.every((x) => x.state === 'granted');
      }),
      quick,
    );
  });
});
