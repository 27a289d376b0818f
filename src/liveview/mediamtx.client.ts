import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';

/** The fields of a MediaMTX path configuration the kernel sets (v3 `PathConf`). */
export interface MediaMtxPathConf {
  name?: string;
  source?: string;
  sourceOnDemand?: boolean;
  rtspTransport?: string;
  [field: string]: unknown;
}

/** Runtime state of a path (`GET /v3/paths/get/{name}`). */
export interface MediaMtxPathState {
  name: string;
  ready: boolean;
  readers: unknown[];
}

const TIMEOUT_MS = 5000;
const PAGE_SIZE = 500;

export class MediaMtxUnavailable extends DomainError {
  constructor(detail: string) {
    super(502, 'MEDIAMTX_UNAVAILABLE', `MediaMTX did not answer as expected: ${detail}`);
  }
}

/**
 * MediaMTX's v3 control API — the only place the kernel talks to MediaMTX. Path sources carry the
 * camera's credentials (MediaMTX must pull the camera), so this goes only to the configured,
 * normally loopback, control API; errors never echo request bodies.
 */
@Injectable()
export class MediaMtxClient {
  constructor(@Inject(HeldarConfig) private readonly config: HeldarConfig) {}

  get configured(): boolean {
    return !!this.config.mediamtxApiUrl;
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const base = this.config.mediamtxApiUrl!.replace(/\/+$/, '');
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: 'manual',
      });
    } catch (err) {
      throw new MediaMtxUnavailable(`${method} ${path}: ${(err as Error).message}`);
    }
    const text = await res.text().catch(() => '');
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, json };
  }

  private expect(r: { status: number }, ok: number[], what: string): void {
    if (!ok.includes(r.status)) throw new MediaMtxUnavailable(`${what} answered ${r.status}`);
  }

  /** A path's configuration, or null when MediaMTX has none of that name. */
  async getPathConf(name: string): Promise<MediaMtxPathConf | null> {
    const r = await this.call('GET', `/v3/config/paths/get/${encodeURIComponent(name)}`);
    if (r.status === 404) return null;
    this.expect(r, [200], 'paths/get');
    return (r.json ?? {}) as MediaMtxPathConf;
  }

  async addPath(name: string, conf: MediaMtxPathConf): Promise<void> {
    const r = await this.call('POST', `/v3/config/paths/add/${encodeURIComponent(name)}`, conf);
    // 400 "path already exists": a concurrent add won; the caller patches next time if it differs.
    this.expect(r, [200, 400], 'paths/add');
  }

  async patchPath(name: string, conf: MediaMtxPathConf): Promise<void> {
    const r = await this.call('PATCH', `/v3/config/paths/patch/${encodeURIComponent(name)}`, conf);
    this.expect(r, [200], 'paths/patch');
  }

  /** Removes a path; one that is already gone is fine. */
  async deletePath(name: string): Promise<void> {
    const r = await this.call('DELETE', `/v3/config/paths/delete/${encodeURIComponent(name)}`);
    this.expect(r, [200, 404], 'paths/delete');
  }

  /** Names of every configured path (all pages). */
  async listPathNames(): Promise<string[]> {
    const names: string[] = [];
    for (let page = 0; page < 1000; page++) {
      const r = await this.call('GET', `/v3/config/paths/list?page=${page}&itemsPerPage=${PAGE_SIZE}`);
      this.expect(r, [200], 'paths/list');
      const body = (r.json ?? {}) as { pageCount?: number; items?: MediaMtxPathConf[] };
      for (const item of body.items ?? []) if (typeof item.name === 'string') names.push(item.name);
      if (page + 1 >= (body.pageCount ?? 0)) break;
    }
    return names;
  }

  /** Runtime state of a path, or null when it is not active/known. */
  async getPathState(name: string): Promise<MediaMtxPathState | null> {
    const r = await this.call('GET', `/v3/paths/get/${encodeURIComponent(name)}`);
    if (r.status === 404) return null;
    this.expect(r, [200], 'paths/get (runtime)');
    const body = (r.json ?? {}) as Partial<MediaMtxPathState>;
    return { name, ready: body.ready === true, readers: Array.isArray(body.readers) ? body.readers : [] };
  }
}
