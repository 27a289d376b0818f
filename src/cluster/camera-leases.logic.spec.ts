import {
  camerasToTake,
  fencedOut,
  fenceDeadline,
  FENCE_MARGIN_MS,
  LEASE_TTL_MS,
  pickCameras,
  type TakeInput,
} from './camera-leases.logic';

describe('camerasToTake', () => {
  const base: TakeInput = { capacity: 256, held: 0, total: 50, free: 50, liveNodes: 3, leastLoaded: true };
  it.each<[string, Partial<TakeInput>, number]>([
    ['alone: every free camera', { liveNodes: 1 }, 50],
    ['first of three: its fair share', {}, 17],
    ['second of three (17 taken): its share', { free: 33 }, 17],
    ['third of three (34 taken): the rest', { free: 16 }, 16],
    ['at its share, nothing free: nothing', { held: 17, free: 0 }, 0],
    ['at its share, a dead node freed 16: an even split', { held: 17, free: 16 }, 6],
    ['two survivors of three (liveness caught up): half each', { held: 17, free: 16, liveNodes: 2 }, 8],
    ['capacity bounds it', { capacity: 10 }, 10],
    ['full: nothing', { capacity: 10, held: 10, free: 40 }, 0],
    ['over capacity (lowered): nothing, never negative', { capacity: 5, held: 10, free: 40 }, 0],
    ['no live node reported: counts itself', { liveNodes: 0 }, 50],
    ['above its share with little free: an even split only', { held: 30, free: 3, liveNodes: 3 }, 1],
    ['at its share while another holder is below it: nothing', { held: 17, free: 11, leastLoaded: false }, 0],
    ['below its share, not least loaded: its deficit', { held: 12, free: 11, leastLoaded: false }, 5],
  ])('%s', (_name, patch, want) => {
    expect(camerasToTake({ ...base, ...patch })).toBe(want);
  });
});

describe('fencing by the monotonic clock', () => {
  it('a lease confirmed by a statement sent at t is dropped at t + TTL − margin', () => {
    expect(fenceDeadline(1000)).toBe(1000 + LEASE_TTL_MS - FENCE_MARGIN_MS);
    expect(fenceDeadline(1000)).toBeLessThan(1000 + LEASE_TTL_MS);
  });

  it.each<[string, number, string[]]>([
    ['just renewed: all held', 5_000, []],
    ['one round missed (3 s): all held', 8_000, []],
    ['a second before the deadline: all held', 15_999, []],
    ['at the deadline of the older: it goes', 16_000, ['cam_a']],
    ['paused 40 s: both go', 45_000, ['cam_a', 'cam_b']],
  ])('%s', (_name, now, want) => {
    const held = new Map([
      ['cam_b', 5_000],
      ['cam_a', 4_000],
    ]);
    expect(fencedOut(held, now)).toEqual(want);
  });
});

describe('pickCameras', () => {
  const free = [
    { cameraId: 'cam_c', expired: false },
    { cameraId: 'cam_b', expired: true },
    { cameraId: 'cam_a', expired: false },
    { cameraId: 'cam_d', expired: true },
  ];
  it('expired leases first (they were recording), then the others; at most n', () => {
    const picked = pickCameras(free, 3, 'node-a');
    expect(picked).toHaveLength(3);
    expect(new Set(picked.slice(0, 2))).toEqual(new Set(['cam_b', 'cam_d']));
    expect(['cam_a', 'cam_c']).toContain(picked[2]);
    expect(pickCameras(free, 0, 'node-a')).toEqual([]);
    expect(pickCameras(free, 9, 'node-a')).toHaveLength(4);
  });

  it('the same node always picks in the same order; other nodes reach for other cameras first', () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ cameraId: `cam_${i}`, expired: false }));
    expect(pickCameras(many, 17, 'node-a')).toEqual(pickCameras([...many].reverse(), 17, 'node-a'));
    const a = new Set(pickCameras(many, 17, 'node-a'));
    const overlap = pickCameras(many, 17, 'node-b').filter((id) => a.has(id)).length;
    expect(overlap).toBeLessThan(17);
  });
});
