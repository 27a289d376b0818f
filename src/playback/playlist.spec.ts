import type { Mp4FragmentIndex } from '../media/mp4-fragments';
import {
  buildPlaylist,
  nearestKeyframe,
  playlistEnd,
  playlistHeader,
  playlistPart,
  type PlaylistFile,
} from './playlist';

const T = Date.UTC(2026, 0, 10, 0, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
/** A file of `n` fragments of `d` seconds, init section of 700 bytes, fragments of 1000 bytes. */
const idx = (n: number, d = 1): Mp4FragmentIndex => ({
  initLength: 700,
  fragments: Array.from({ length: n }, (_, i) => ({ offset: 700 + i * 1000, length: 1000, durationS: d })),
});
const file = (name: string, startS: number, n: number, d = 1): PlaylistFile => ({
  uri: `${name}.mp4`,
  startMs: T + startS * 1000,
  index: idx(n, d),
});

describe('buildPlaylist', () => {
  it('a closed range over two files with a hole: MAP per file, discontinuity between, PDT per fragment, ENDLIST', () => {
    const pl = buildPlaylist({
      files: [file('b', 10, 2), file('a', 0, 2)],
      fromMs: T,
      toMs: T + 12_000,
      token: 't/k=',
    });
    const q = '?token=t%2Fk%3D';
    expect(pl.text.split('\n')).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:1',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      `#EXT-X-MAP:URI="a.mp4${q}",BYTERANGE="700@0"`,
      `#EXT-X-PROGRAM-DATE-TIME:${iso(T)}`,
      '#EXTINF:1.000000,',
      '#EXT-X-BYTERANGE:1000@700',
      `a.mp4${q}`,
      `#EXT-X-PROGRAM-DATE-TIME:${iso(T + 1000)}`,
      '#EXTINF:1.000000,',
      '#EXT-X-BYTERANGE:1000@1700',
      `a.mp4${q}`,
      '#EXT-X-DISCONTINUITY',
      `#EXT-X-MAP:URI="b.mp4${q}",BYTERANGE="700@0"`,
      `#EXT-X-PROGRAM-DATE-TIME:${iso(T + 10_000)}`,
      '#EXTINF:1.000000,',
      '#EXT-X-BYTERANGE:1000@700',
      `b.mp4${q}`,
      `#EXT-X-PROGRAM-DATE-TIME:${iso(T + 11_000)}`,
      '#EXTINF:1.000000,',
      '#EXT-X-BYTERANGE:1000@1700',
      `b.mp4${q}`,
      '#EXT-X-ENDLIST',
      '',
    ]);
    expect(pl.durationS).toBe(4);
  });

  it.each([
    // [from s, to s, expected fragment starts (s)]
    [0, 20, [0, 1, 2, 3, 10, 11]],
    [1.5, 20, [1, 2, 3, 10, 11]], // the fragment holding `from` (it starts at a keyframe)
    [0, 2, [0, 1]], // `to` on a fragment boundary: the next one is out
    [3.5, 10, [3]], // `to` at the second file's start
    [4, 10, []], // inside the hole
    [11, null, [11]], // open range
  ] as const)('from %s to %s lists the fragments starting at %j', (from, to, starts) => {
    const pl = buildPlaylist({
      files: [file('a', 0, 4), file('b', 10, 2)],
      fromMs: T + from * 1000,
      toMs: to === null ? null : T + to * 1000,
      token: 'x',
    });
    expect(pl.entries.map((e) => (e.startMs - T) / 1000)).toEqual(starts);
    // A MAP precedes the first fragment listed from each file, even when the file's head is trimmed.
    expect(pl.text.split('\n').filter((l) => l.startsWith('#EXT-X-MAP')).length).toBe(
      new Set(pl.entries.map((e) => e.uri)).size,
    );
  });

  it('an open range is an EVENT playlist without ENDLIST; the target never drops below minTargetS', () => {
    const pl = buildPlaylist({
      files: [file('a', 0, 2, 2.4)],
      fromMs: T,
      toMs: null,
      token: 'x',
      minTargetS: 4,
    });
    expect(pl.text).toContain('#EXT-X-PLAYLIST-TYPE:EVENT\n');
    expect(pl.text).not.toContain('#EXT-X-ENDLIST');
    expect(pl.targetS).toBe(4);
    expect(buildPlaylist({ files: [file('a', 0, 2, 2.4)], fromMs: T, toMs: null, token: 'x' }).targetS).toBe(
      3,
    );
  });

  it('a URI that already has a query gets the token with &', () => {
    const pl = buildPlaylist({
      files: [{ ...file('a', 0, 1), uri: 'a.mp4?v=1' }],
      fromMs: T,
      toMs: T + 1000,
      token: 'x',
    });
    expect(pl.text).toContain('\na.mp4?v=1&token=x\n');
  });
});

describe('playlistPart', () => {
  const files = [file('a', 0, 4), file('b', 10, 2, 2.4), file('c', 20, 3)];
  it.each([
    // [from s, to s (null: open), where the files are split into a finished part and the rest]
    [0, null, 0],
    [0, null, 1],
    [0, null, 2],
    [0, null, 3],
    [1.5, 25, 1],
    [5, 25, 1], // the first part lists nothing (from is past it): no discontinuity before `b`
    [0, 3, 2], // the second part lists nothing
  ] as const)(
    'from %s to %s, split after %s files: header + parts + end is the whole playlist',
    (from, to, split) => {
      const fromMs = T + from * 1000;
      const toMs = to === null ? null : T + to * 1000;
      const whole = buildPlaylist({ files, fromMs, toMs, token: 'k' });
      const done = playlistPart(files.slice(0, split), fromMs, toMs, 'k');
      const rest = playlistPart(files.slice(split), fromMs, toMs, 'k', done.entries.length > 0);
      const targetS = Math.max(1, done.targetS, rest.targetS);
      expect(playlistHeader(targetS, toMs === null) + done.text + rest.text + playlistEnd(toMs)).toBe(
        whole.text,
      );
      expect(targetS).toBe(whole.targetS);
      expect(done.durationS + rest.durationS).toBeCloseTo(whole.durationS, 9);
    },
  );
});

describe('nearestKeyframe', () => {
  it.each([
    // [at (s after the file start), fragment, keyframe at (s)]
    [0, 0, 0],
    [0.4, 0, 0],
    [0.6, 1, 1],
    [2.2, 2, 2],
    [3.9, 3, 3], // the last keyframe, even near the file's end
    [-1, 0, 0],
  ] as const)('at %s s: fragment %s, keyframe at %s s', (at, fragment, kf) => {
    expect(nearestKeyframe(idx(4), T, T + at * 1000)).toEqual({ fragment, atMs: T + kf * 1000 });
  });
  it('none in a file without fragments', () => {
    expect(nearestKeyframe({ initLength: 1, fragments: [] }, T, T)).toBeNull();
  });
});
