import { camerasToCount, recordingPercent } from './readiness';

describe('camerasToCount (/readyz)', () => {
  const all = () => true;
  const only =
    (...ids: string[]) =>
    (id: string) =>
      ids.includes(id);
  it.each([
    ['a single node: every camera that should record', ['a', 'b'], all, [], ['a', 'b']],
    ['a cluster node: the cameras it holds', ['a', 'b', 'c', 'd'], only('a', 'b'), [], ['a', 'b']],
    ['with room: also those no node holds yet', ['a', 'b', 'c', 'd'], only('a'), ['d'], ['a', 'd']],
    ['holding none, every camera held elsewhere', ['a', 'b'], only(), [], []],
    ['a held camera that should not record', ['a'], only('a', 'x'), [], ['a']],
    ['nothing should record', [], all, [], []],
  ])('%s', (_name, expected, holds, unleased, counted) => {
    expect(camerasToCount(expected, { holds, unleased: new Set(unleased) })).toEqual(counted);
  });
});

describe('recordingPercent (/readyz)', () => {
  it.each([
    ['all recording', ['a', 'b'], ['a', 'b'], 100],
    ['one of two', ['a', 'b'], ['a'], 50],
    ['none counted', [], [], 100],
    ['a recorder of a camera not counted does not count', ['a'], ['a', 'x'], 100],
    ['one decimal', ['a', 'b', 'c'], ['a'], 33.3],
    ['none recording', ['a', 'b'], [], 0],
  ])('%s', (_name, counted, recording, pct) => {
    expect(recordingPercent(counted, new Set(recording))).toBe(pct);
  });
});
