import {
  actsAsLeader,
  afterAttempt,
  type Attempt,
  LEADER_TIMING,
  type LeaseState,
  NO_LEASE,
  stepDownAt,
} from './leader-lease';

/** TTL 15 s, margin 3 s: a node acts as leader for at most 12 s after the send of its last granted renewal. */
const t = LEADER_TIMING;
const held = (sentAt: number): LeaseState => ({ held: true, lastOkSentAt: sentAt });

describe('leader lease decision (monotonic clock)', () => {
  it.each<[string, LeaseState, number, Attempt, LeaseState]>([
    ['takes a free or expired lease', NO_LEASE, 1_000, 'granted', held(1_000)],
    ['renews: the clock restarts from the new send', held(1_000), 4_000, 'granted', held(4_000)],
    ['a late answer to an older send never moves the clock back', held(4_000), 1_000, 'granted', held(4_000)],
    ['refused (another node holds it): not held', held(1_000), 4_000, 'refused', NO_LEASE],
    ['no answer (store error): unchanged, the clock runs on', held(1_000), 4_000, 'error', held(1_000)],
    ['no answer while not held: still not held', NO_LEASE, 4_000, 'error', NO_LEASE],
  ])('%s', (_what, before, sentAt, outcome, after) => {
    expect(afterAttempt(before, sentAt, outcome)).toEqual(after);
  });

  it.each<[string, LeaseState, number, boolean]>([
    ['not held', NO_LEASE, 0, false],
    ['just granted', held(10_000), 10_000, true],
    ['renewed 3 s ago', held(10_000), 13_000, true],
    ['11.999 s since the granted send', held(10_000), 21_999, true],
    ['12 s (TTL − margin) since the granted send: steps down', held(10_000), 22_000, false],
    ['20 s since (a paused node resuming): steps down', held(10_000), 30_000, false],
  ])('acts as leader: %s', (_what, s, now, leader) => {
    expect(actsAsLeader(s, now, t)).toBe(leader);
  });

  it('steps down at send + TTL − margin, always before the store could expire the lease (send + TTL)', () => {
    expect(stepDownAt(held(10_000), t)).toBe(22_000);
    expect(stepDownAt(NO_LEASE, t)).toBeNull();
    expect(stepDownAt(held(10_000), t)!).toBeLessThan(10_000 + t.ttlMs);
  });

  it('a sequence: renewals every 3 s keep it; renewals failing from 9 s make it step down at 18 s', () => {
    let s = NO_LEASE;
    const seen: Array<[number, boolean]> = [];
    for (let now = 0; now <= 24_000; now += 3_000) {
      s = afterAttempt(s, now, now < 9_000 ? 'granted' : 'error');
      seen.push([now, actsAsLeader(s, now, t)]);
    }
    seen.push([17_999, actsAsLeader(s, 17_999, t)], [18_000, actsAsLeader(s, 18_000, t)]);
    expect(seen).toEqual([
      [0, true],
      [3_000, true],
      [6_000, true],
      [9_000, true],
      [12_000, true],
      [15_000, true],
      [18_000, false],
      [21_000, false],
      [24_000, false],
      [17_999, true],
      [18_000, false],
    ]);
  });
});
