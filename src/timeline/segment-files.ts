import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { mkdir, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Request, Response } from 'express';
import type { Principal } from '../auth/principal';
import { NodeClient } from '../cluster/node-client';
import { NotFoundError, UnavailableError } from '../common/errors';
import { prefixedId } from '../common/ids';
import { HeldarConfig } from '../config/heldar-config';
import type { SegmentEntity } from './entities/segment.entity';
import { TimelineRepository } from './timeline.repository';

/** At most this many bytes of other nodes' footage are held in temporary copies at once. */
export const REMOTE_COPIES_MAX_BYTES = 4 * 1024 ** 3;
/** Segments copied from other nodes at once, per request. */
const PARALLEL = 4;

/** What a segment row says about where its bytes are. */
export interface SegmentRef {
  id: string;
  path: string;
  /** This node's path of the file (`<recordings>/<path>`). */
  file: string;
  sizeBytes: number;
  nodeId?: string | null;
}

/** Segments with a `file` readable on this node, until `release()` (call it once, in a finally). */
export interface LocalSegments<T extends SegmentRef> {
  segs: T[];
  /** How many were copied from another node. */
  copied: number;
  release: () => Promise<void>;
}

/** The owner's route for one segment file (node-to-node; see NodeMediaController). */
export const nodeSegmentPath = (id: string) => `/internal/v1/segments/${encodeURIComponent(id)}`;

/**
 * Where a segment's bytes are (issue 18, per-node storage): this node's disk, or another live
 * node's, read through it. The exporter, snapshots and playback ask for local files; a segment on
 * another node's disk is copied (signed node-to-node request, bounded in size and time) into a
 * temporary folder of this node, removed on release, so a clip spanning a failover (segments of two
 * nodes) is one ffmpeg run like any other. On SQLite and with shared storage every file is local and
 * nothing here runs a query or touches the disk.
 */
@Injectable()
export class SegmentFiles implements OnModuleInit {
  private held = 0;
  readonly tmpRoot: string;

  constructor(
    private readonly nodes: NodeClient,
    private readonly repo: TimelineRepository,
    @Inject(HeldarConfig) config: HeldarConfig,
  ) {
    this.tmpRoot = join(config.dataDirAbs, 'tmp', 'remote-segments');
  }

  /** Copies left by a crash are removed at boot. */
  async onModuleInit(): Promise<void> {
    if (this.nodes.perNodeStorage) await rm(this.tmpRoot, { recursive: true, force: true });
  }

  /** Bytes of other nodes' footage held in temporary copies now. */
  get heldBytes(): number {
    return this.held;
  }

  isRemote(seg: { nodeId?: string | null }): boolean {
    return this.nodes.isRemote(seg.nodeId);
  }

  /**
   * `segs` with a local `file` each: local ones as they are, the others copied from their node on
   * behalf of `principal` (its capability and camera scope are checked there too). The owner node
   * not live or not answering: 503 naming it; the segment gone there: 404.
   */
  async local<T extends SegmentRef>(principal: Principal, segs: readonly T[]): Promise<LocalSegments<T>> {
    const remote = segs.filter((s) => this.isRemote(s));
    if (remote.length === 0) return { segs: [...segs], copied: 0, release: async () => undefined };
    const need = remote.reduce((n, s) => n + Math.max(0, s.sizeBytes), 0);
    if (this.held > 0 && this.held + need > REMOTE_COPIES_MAX_BYTES)
      throw new UnavailableError(
        'too much footage is being read from other nodes right now; try again shortly',
        'REMOTE_FOOTAGE_BUSY',
        5,
      );
    this.held += need;
    const dir = join(this.tmpRoot, prefixedId('fetch_'));
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      this.held -= need;
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await mkdir(dir, { recursive: true });
      const out = [...segs];
      const todo = out.map((s, i) => [s, i] as const).filter(([s]) => this.isRemote(s));
      const copy = async ([s, i]: readonly [T, number]) => {
        const dest = join(dir, `${s.id}${extname(s.path) || '.mp4'}`);
        await this.nodes.download(
          s.nodeId!,
          nodeSegmentPath(s.id),
          principal,
          dest,
          Math.max(2 * s.sizeBytes, s.sizeBytes + 64 * 1024 ** 2),
          () =>
            new NotFoundError(`a recording of this range is no longer on node \`${s.nodeId}\``, 'NO_FOOTAGE'),
        );
        out[i] = { ...s, file: dest };
      };
      for (let k = 0; k < todo.length; k += PARALLEL) {
        // Settled, not all: no copy is still writing when a failure removes the folder.
        const done = await Promise.allSettled(todo.slice(k, k + PARALLEL).map(copy));
        const failed = done.find((d): d is PromiseRejectedResult => d.status === 'rejected');
        if (failed) throw failed.reason;
      }
      return { segs: out, copied: todo.length, release };
    } catch (err) {
      await release();
      throw err;
    }
  }

  /** A segment row by id (the node-to-node route). */
  byId(id: string): Promise<SegmentEntity | null> {
    return this.repo.getSegment(id);
  }

  /**
   * The row of a recording this node's disk does not hold, when another node's does (per-node
   * storage); null otherwise. Asked only after the local file was not found: on SQLite or with
   * shared storage, never (no query).
   */
  async remoteByPath(path: string): Promise<SegmentEntity | null> {
    if (!this.nodes.perNodeStorage) return null;
    const seg = await this.repo.getByPath(path);
    return seg && this.isRemote(seg) ? seg : null;
  }

  /** Answers `res` with a segment held by another node, through it (the caller's Range passed on). */
  proxy(
    principal: Principal,
    seg: { id: string; nodeId?: string | null },
    req: Request,
    res: Response,
  ): Promise<void> {
    return this.nodes.proxy(
      seg.nodeId!,
      nodeSegmentPath(seg.id),
      principal,
      req,
      res,
      () => new NotFoundError('no such media', 'MEDIA_NOT_FOUND'),
    );
  }
}
