import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Principal } from '../auth/principal';
import { DomainError, UnavailableError } from '../common/errors';
import { SecretBox } from '../common/secret-box';
import { HeldarConfig } from '../config/heldar-config';
import { nodeAuthKey, signNodeRequest } from './node-auth';
import { NodeIdentity } from './node-identity';
import { NODE_LIVE_MS } from './nodes.logic';
import { NodesRepository } from './nodes.repository';

/** The owner node must answer with its status line within this. */
export const NODE_HEADERS_TIMEOUT_MS = 10_000;
/** A whole transfer (one recorded segment or clip file) must end within this. */
export const NODE_TRANSFER_TIMEOUT_MS = 300_000;

/** Response headers of the owner passed on to the caller of a proxied media request. */
const PASSED_ON = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'last-modified',
  'etag',
  'cache-control',
];

/**
 * Requests to another node of the cluster (per-node storage: footage on another node's disk is read
 * through that node). Every request is signed (node-auth.ts) on behalf of the principal the user
 * called with, goes only to a live node (its `url` from `nodes`), and is bounded in time: the
 * status line within 10 s, the whole transfer within 5 min. A node not live, or not answering, is a
 * 503 naming it; never a hang or a 500.
 */
@Injectable()
export class NodeClient {
  private readonly logger = new Logger('NodeClient');
  private readonly key: Buffer;

  constructor(
    private readonly repo: NodesRepository,
    private readonly me: NodeIdentity,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
    box: SecretBox,
  ) {
    this.key = nodeAuthKey(box);
  }

  /** Rows may name another node's disk: PostgreSQL with per-node storage (never on SQLite). */
  get perNodeStorage(): boolean {
    return !this.config.isSqlite && !this.config.storageShared;
  }

  /** Whether a row's `node_id` is another node's disk (so its file is read through that node). */
  isRemote(nodeId: string | null | undefined): nodeId is string {
    return this.perNodeStorage && !!nodeId && nodeId !== this.me.nodeId;
  }

  /** The `node_id` a row of a file written to this node's disk carries (null: every file is local). */
  get ownRowNodeId(): string | null {
    return this.perNodeStorage ? this.me.nodeId : null;
  }

  /** A signed GET of `pathAndQuery` on node `nodeId`; the response's body is still to be read. */
  async get(
    nodeId: string,
    pathAndQuery: string,
    principal: Principal,
    headers: Record<string, string> = {},
  ): Promise<globalThis.Response> {
    const node = await this.repo.getLive(nodeId, NODE_LIVE_MS);
    if (!node)
      throw new UnavailableError(
        `this footage is on the disk of node \`${nodeId}\`, which is not live (no heartbeat for 15 s or stopped); ` +
          'it is served again once that node is back',
        'NODE_UNAVAILABLE',
        5,
      );
    const url = node.url.replace(/\/+$/, '') + pathAndQuery;
    const signed = signNodeRequest(this.key, 'GET', pathAndQuery, this.me.nodeId, principal, Date.now());
    const status = new AbortController();
    const timer = setTimeout(() => status.abort(), NODE_HEADERS_TIMEOUT_MS);
    let res: globalThis.Response;
    try {
      res = await fetch(url, {
        headers: { ...headers, ...signed },
        redirect: 'manual',
        signal: AbortSignal.any([status.signal, AbortSignal.timeout(NODE_TRANSFER_TIMEOUT_MS)]),
      });
    } catch (err) {
      const why = status.signal.aborted
        ? `no answer within ${NODE_HEADERS_TIMEOUT_MS / 1000} s`
        : errText(err);
      this.logger.warn({ msg: 'node request failed', node: nodeId, url: node.url, why });
      throw new UnavailableError(
        `node \`${nodeId}\`, which holds this footage, did not answer (${why})`,
        'NODE_UNAVAILABLE',
        5,
      );
    } finally {
      clearTimeout(timer);
    }
    if (res.status === 401) {
      await res.body?.cancel().catch(() => undefined);
      this.logger.error({
        msg: 'another node refused this node\u2019s signature: is HELDAR_SECRET_KEY the same on both, their clocks within 5 min?',
        node: nodeId,
      });
      throw new DomainError(502, 'NODE_PROXY_FAILED', `node \`${nodeId}\` refused this node's request`);
    }
    return res;
  }

  /**
   * Copies the file at `pathAndQuery` on `nodeId` to `dest` (at most `maxBytes`); a partial file is
   * removed. 404 from the owner: `notFound`.
   */
  async download(
    nodeId: string,
    pathAndQuery: string,
    principal: Principal,
    dest: string,
    maxBytes: number,
    notFound: () => Error,
  ): Promise<number> {
    const res = await this.get(nodeId, pathAndQuery, principal);
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      throw notFound();
    }
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw this.failed(nodeId, `status ${res.status}`);
    }
    let bytes = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(bytes > maxBytes ? new Error(`more than ${maxBytes} bytes`) : null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body), cap, createWriteStream(dest));
    } catch (err) {
      await rm(dest, { force: true });
      throw this.failed(nodeId, errText(err));
    }
    return bytes;
  }

  /**
   * Answers `res` with the file at `pathAndQuery` on `nodeId`: the caller's Range (and If-Range)
   * are passed on, the owner's status (200, 206, 416) and media headers passed back. 404 from the
   * owner: `notFound`.
   */
  async proxy(
    nodeId: string,
    pathAndQuery: string,
    principal: Principal,
    req: Request,
    res: Response,
    notFound: () => Error,
  ): Promise<void> {
    const pass: Record<string, string> = {};
    for (const h of ['range', 'if-range']) {
      const v = req.headers[h];
      if (typeof v === 'string') pass[h] = v;
    }
    const up = await this.get(nodeId, pathAndQuery, principal, pass);
    if (up.status === 404) {
      await up.body?.cancel().catch(() => undefined);
      throw notFound();
    }
    if (![200, 206, 416].includes(up.status)) {
      await up.body?.cancel().catch(() => undefined);
      throw this.failed(nodeId, `status ${up.status}`);
    }
    res.status(up.status);
    for (const h of PASSED_ON) {
      const v = up.headers.get(h);
      if (v !== null) res.setHeader(h, v);
    }
    if (!up.body || req.method === 'HEAD') {
      await up.body?.cancel().catch(() => undefined);
      res.end();
      return;
    }
    try {
      await pipeline(Readable.fromWeb(up.body), res);
    } catch (err) {
      // Headers are sent: the client sees a cut transfer (its Content-Length is not met).
      this.logger.warn({ msg: 'proxied media transfer cut', node: nodeId, why: errText(err) });
      res.destroy();
    }
  }

  private failed(nodeId: string, why: string): DomainError {
    this.logger.warn({ msg: 'node media transfer failed', node: nodeId, why });
    return new DomainError(
      502,
      'NODE_PROXY_FAILED',
      `reading this footage from node \`${nodeId}\` failed (${why})`,
    );
  }
}

const errText = (err: unknown): string => {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
};
