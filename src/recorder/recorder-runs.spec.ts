import { deriveGapCause, type RecorderRun, runStops } from './recorder-runs';

const T = Date.UTC(2026, 10, 22, 10, 0, 0);
const s = (a: number, b: number) => ({ startMs: T + a * 1000, endMs: T + b * 1000 });

describe('deriveGapCause', () => {
  const gap = s(100, 130);
  const run = (start: number, end: number | null, endReason: RecorderRun['endReason']): RecorderRun => ({
    startedAtMs: T + start * 1000,
    endedAtMs: end === null ? null : T + end * 1000,
    endReason,
  });
  it.each([
    ['camera lost', [run(0, 100.2, 'source_lost'), run(101, 101.1, 'source_lost')], 'camera_offline'],
    ['recorder turned off', [run(0, 100.5, 'stopped')], 'recorder_stopped'],
    ['kernel stopped', [run(0, 100.3, 'server_stop')], 'server_down'],
    ['kernel killed', [run(0, 110, 'server_down')], 'server_down'],
    ['disk gone', [run(0, 99, 'storage_error')], 'storage_error'],
    [
      "cluster: another node took the camera from an expired lease (the dead node's run closed then)",
      [run(0, 115, 'node_failover')],
      'node_failover',
    ],
    ['cluster: a takeover marker (zero-length run)', [run(115, 115, 'node_failover')], 'node_failover'],
    [
      'cluster: this node fenced its recorder (lease unproven)',
      [run(0, 100.4, 'lease_lost')],
      'node_failover',
    ],
    [
      'the first run to end explains it',
      [run(50, 120, 'stopped'), run(0, 101, 'source_lost')],
      'camera_offline',
    ],
    ['a run that ended long before does not', [run(0, 80, 'source_lost')], 'unknown'],
    ['a run still going does not', [run(0, null, null)], 'unknown'],
    ['no runs', [], 'unknown'],
  ])('%s', (_name, runs, cause) => {
    expect(deriveGapCause(gap, runs)).toBe(cause);
  });
});

describe('runStops', () => {
  const run = (end: number | null, endReason: RecorderRun['endReason']): RecorderRun => ({
    startedAtMs: T,
    endedAtMs: end === null ? null : T + end * 1000,
    endReason,
  });
  it('keeps the runs that ended with a reason, ascending, each with its gap cause', () => {
    expect(
      runStops([
        run(30, 'storage_error'),
        run(null, null),
        run(10, 'not_scheduled'),
        run(20, null),
        run(5, 'server_down'),
      ]),
    ).toEqual([
      { atMs: T + 5000, cause: 'server_down' },
      { atMs: T + 10_000, cause: 'not_scheduled' },
      { atMs: T + 30_000, cause: 'storage_error' },
    ]);
  });
});
