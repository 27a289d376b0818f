import type { Mp4FragmentIndex } from '../media/mp4-fragments';

/** One recorded file of a session: where its bytes are fetched and where its fragments lie. */
export interface PlaylistFile {
  /** URI of the file's bytes, relative to the playlist (the token is appended to it). */
  uri: string;
  /** Wall-clock start of the file (the segment's start time), ms. */
  startMs: number;
  index: Mp4FragmentIndex;
}

export interface PlaylistInput {
  files: PlaylistFile[];
  fromMs: number;
  /** null: an open (EVENT) session that grows as segments are indexed. */
  toMs: number | null;
  /** Appended to every URI as `token=` (MAP and fragments alike). */
  token: string;
  /** Lower bound of the target duration (an EVENT playlist must never lower it between reloads). */
  minTargetS?: number;
}

export interface PlaylistEntry {
  uri: string;
  startMs: number;
  durationS: number;
  offset: number;
  length: number;
  /** First fragment of its file: a discontinuity (after the first) and a new MAP precede it. */
  fileStart: boolean;
  initLength: number;
}

export interface Playlist {
  text: string;
  entries: PlaylistEntry[];
  targetS: number;
  durationS: number;
}

/** The fragments of `files` that overlap [from, to), each with its wall-clock start. */
export function selectFragments(files: PlaylistFile[], fromMs: number, toMs: number | null): PlaylistEntry[] {
  const out: PlaylistEntry[] = [];
  for (const f of [...files].sort((a, b) => a.startMs - b.startMs)) {
    let t = f.startMs;
    let first = true;
    for (const frag of f.index.fragments) {
      const endMs = t + frag.durationS * 1000;
      if (endMs > fromMs && (toMs === null || t < toMs) && frag.durationS > 0) {
        out.push({
          uri: f.uri,
          startMs: t,
          durationS: frag.durationS,
          offset: frag.offset,
          length: frag.length,
          fileStart: first,
          initLength: f.index.initLength,
        });
        first = false;
      }
      t = endMs;
    }
  }
  return out;
}

const withToken = (uri: string, token: string) =>
  `${uri}${uri.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;

/** The tags before the first segment; the target duration is the longest fragment, rounded up. */
export function playlistHeader(targetS: number, open: boolean): string {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${targetS}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${open ? 'EVENT' : 'VOD'}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
    '',
  ].join('\n');
}

/** A run of playlist entries as text, and what the header needs to know of them. */
export interface PlaylistPart {
  text: string;
  entries: PlaylistEntry[];
  /** Longest fragment, rounded up (0 for no entries). */
  targetS: number;
  durationS: number;
}

/**
 * The lines of `files`' fragments in [from, to): per file an `EXT-X-MAP` on its init section, per
 * fragment a byte range with its program date-time, a discontinuity before every file but the
 * playlist's first (`afterEntries`: entries precede this part). Parts rendered one after another
 * concatenate to the playlist of all their files, so a session renders its finished files once.
 */
export function playlistPart(
  files: PlaylistFile[],
  fromMs: number,
  toMs: number | null,
  token: string,
  afterEntries = false,
): PlaylistPart {
  const entries = selectFragments(files, fromMs, toMs);
  const lines: string[] = [];
  let durationS = 0;
  let targetS = 0;
  entries.forEach((e, i) => {
    if (e.fileStart) {
      if (i > 0 || afterEntries) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXT-X-MAP:URI="${withToken(e.uri, token)}",BYTERANGE="${e.initLength}@0"`);
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(e.startMs).toISOString()}`);
    lines.push(`#EXTINF:${e.durationS.toFixed(6)},`);
    lines.push(`#EXT-X-BYTERANGE:${e.length}@${e.offset}`);
    lines.push(withToken(e.uri, token));
    durationS += e.durationS;
    targetS = Math.max(targetS, Math.ceil(e.durationS));
  });
  return { text: lines.length ? `${lines.join('\n')}\n` : '', entries, targetS, durationS };
}

/** The closing tag of a closed range ('' for an open, EVENT, playlist). */
export const playlistEnd = (toMs: number | null): string => (toMs === null ? '' : '#EXT-X-ENDLIST\n');

/**
 * An HLS media playlist (RFC 8216, version 7) over recorded fragmented MP4 files: per file an
 * `EXT-X-MAP` on its init section, per fragment a byte range with its program date-time; a
 * discontinuity before every file after the first (each file restarts its timestamps, and a gap
 * between two files shows as a jump of the program date-time). Closed ranges end with ENDLIST;
 * open ones are EVENT playlists.
 */
export function buildPlaylist(input: PlaylistInput): Playlist {
  const part = playlistPart(input.files, input.fromMs, input.toMs, input.token);
  const targetS = Math.max(1, input.minTargetS ?? 1, part.targetS);
  const text = playlistHeader(targetS, input.toMs === null) + part.text + playlistEnd(input.toMs);
  return { text, entries: part.entries, targetS, durationS: part.durationS };
}

/** The keyframe (fragment start: recorded with `frag_keyframe`) nearest to `atMs` in a file starting at `startMs`. */
export function nearestKeyframe(
  index: Mp4FragmentIndex,
  startMs: number,
  atMs: number,
): { fragment: number; atMs: number } | null {
  let best: { fragment: number; atMs: number } | null = null;
  let t = startMs;
  index.fragments.forEach((f, i) => {
    if (!best || Math.abs(t - atMs) < Math.abs(best.atMs - atMs)) best = { fragment: i, atMs: Math.round(t) };
    t += f.durationS * 1000;
  });
  return best;
}
