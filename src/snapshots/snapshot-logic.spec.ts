import { isDue, isJpeg, snapshotRelPath, takesSnapshotsOf } from './snapshot-logic';

describe('snapshotRelPath', () => {
  it.each([
    ['cam_a', '2026-12-02T03:04:05.678Z', 0, 'cam_a/2026-12-02/20261202_030405.jpg'],
    ['door', '2026-01-01T00:00:00.000Z', 0, 'door/2026-01-01/20260101_000000.jpg'],
    ['door', '2026-12-31T23:59:59.999Z', 0, 'door/2026-12-31/20261231_235959.jpg'],
    ['door', '2026-12-31T23:59:59.000Z', 2, 'door/2026-12-31/20261231_235959-2.jpg'],
  ])('%s at %s (seq %d) → %s', (cam, iso, seq, expected) => {
    expect(snapshotRelPath(cam, Date.parse(iso), seq)).toBe(expected);
  });
});

describe('isDue', () => {
  const now = 1_000_000_000;
  it.each([
    ['never taken', null, 300, true],
    ['planned now', now, 300, true],
    ['planned in the past', now - 1, 300, true],
    ['planned 1 s ahead', now + 1000, 300, false],
    ['planned one interval ahead', now + 300_000, 300, false],
    ['planned beyond one interval (the clock went back)', now + 300_001, 300, true],
    ['5 s schedule, 4 s ahead', now + 4000, 5, false],
  ] as const)('%s', (_name, next, interval, due) => {
    expect(isDue(next, interval, now)).toBe(due);
  });
});

describe('isJpeg', () => {
  it.each([
    ['a JFIF header', [0xff, 0xd8, 0xff, 0xe0], true],
    ['an Exif header', [0xff, 0xd8, 0xff, 0xe1], true],
    ['a PNG', [0x89, 0x50, 0x4e, 0x47], false],
    ['too short', [0xff, 0xd8], false],
    ['empty', [], false],
  ])('%s', (_name, bytes, ok) => {
    expect(isJpeg(Uint8Array.from(bytes))).toBe(ok);
  });
});

describe('takesSnapshotsOf (which node grabs a camera)', () => {
  it.each([
    ['the node recording it', { owns: true, leader: false, recorded: true }, true],
    ['the node recording it, also the leader', { owns: true, leader: true, recorded: true }, true],
    ['another node, the leader, while one records it', { owns: false, leader: true, recorded: true }, false],
    ['another node, a follower', { owns: false, leader: false, recorded: true }, false],
    ['the leader, for a camera no node records', { owns: false, leader: true, recorded: false }, true],
    ['a follower, for a camera no node records', { owns: false, leader: false, recorded: false }, false],
  ])('%s', (_name, s, takes) => {
    expect(takesSnapshotsOf(s)).toBe(takes);
  });
});
