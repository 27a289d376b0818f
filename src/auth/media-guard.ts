import type { Response } from 'express';
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { BadRequestError, ForbiddenError, NotFoundError } from '../common/errors';
import type { Capability } from './capabilities';
import { assertCameraScope, hasCapability, type Principal } from './principal';

/** Which capability each media tree needs. */
export const MEDIA_CAPABILITIES: Record<string, Capability> = {
  recordings: 'video:playback',
  snapshots: 'video:playback',
  clips: 'video:export',
  live: 'video:live',
};

export interface MediaTarget {
  kind: string;
  /** Decoded path below the media tree (`<camera>/<file>` for recordings). */
  relPath: string;
  cameraId: string | null;
}

const ENCODED_TRICKS = /%2e|%2f|%5c|%00/i;
const SEGMENT = /^[A-Za-z0-9._-]{1,255}$/;

/**
 * The media-plane guard (`/media/<kind>/<path>`): refuses traversal in any spelling (`..`,
 * `%2e`, `%2f`, `%5c`, backslashes, absolute paths), requires the tree's capability, and applies
 * the camera scope by the camera the file belongs to — before anything touches the disk.
 * `cameraOf` names the camera of trees whose path does not start with it (clips).
 */
export function authorizeMediaPath(
  principal: Principal,
  rawPath: string,
  cameraOf?: (kind: string, relPath: string) => string | null,
): MediaTarget {
  if (ENCODED_TRICKS.test(rawPath) || rawPath.includes('\\')) {
    throw new BadRequestError('invalid media path', 'INVALID_MEDIA_PATH');
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    throw new BadRequestError('invalid media path', 'INVALID_MEDIA_PATH');
  }
  const parts = decoded.replace(/^\/+/, '').split('/');
  if (
    isAbsolute(decoded.replace(/^\/+/, '')) ||
    parts.some((p) => !SEGMENT.test(p) || p === '.' || p === '..')
  ) {
    throw new BadRequestError('invalid media path', 'INVALID_MEDIA_PATH');
  }
  const [kind, ...rest] = parts;
  const cap = MEDIA_CAPABILITIES[kind];
  if (!cap || rest.length === 0) throw new NotFoundError('no such media', 'MEDIA_NOT_FOUND');
  if (!hasCapability(principal, cap))
    throw new ForbiddenError(`requires capability ${cap}`, 'MISSING_CAPABILITY');
  const relPath = rest.join('/');
  const cameraId =
    kind === 'recordings' || kind === 'snapshots' || kind === 'live'
      ? rest[0]
      : (cameraOf?.(kind, relPath) ?? null);
  if (cameraId !== null) assertCameraScope(principal, cameraId, 'read its media');
  else if (principal.cameraScope !== 'all') {
    throw new ForbiddenError('this media is not attributed to a camera in your scope', 'CAMERA_SCOPE');
  }
  return { kind, relPath, cameraId };
}

/** The real file for `relPath` under `root`, refusing anything (symlinks too) that resolves outside it. */
export async function resolveUnderRoot(root: string, relPath: string): Promise<string> {
  const realRoot = await realpath(root).catch(() => resolve(root));
  let real: string;
  try {
    real = await realpath(resolve(realRoot, relPath));
  } catch {
    throw new NotFoundError('no such media', 'MEDIA_NOT_FOUND');
  }
  const rel = relative(realRoot, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
    throw new NotFoundError('no such media', 'MEDIA_NOT_FOUND');
  }
  return real;
}

/** Send a media file (HTTP Range, correct Content-Type, never cached by shared caches). */
export function sendMediaFile(res: Response, file: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    res.sendFile(file, { dotfiles: 'deny', headers: { 'Cache-Control': 'private, max-age=0' } }, (err) =>
      err && !res.headersSent ? reject(err) : resolve(),
    );
  });
}
