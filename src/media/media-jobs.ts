import { Inject, Injectable } from '@nestjs/common';
import { UnavailableError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';

/** How long a media job may wait for a slot before the request is answered 503. */
export const MEDIA_JOB_WAIT_MS = 10_000;

/** The media-job governor: at most HELDAR_MEDIA_JOB_CONCURRENCY ffmpeg exports at once (clips,
 * snapshots). It lives in media so that every module starting ffmpeg can share it. */
@Injectable()
export class MediaJobs {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(@Inject(HeldarConfig) private readonly config: HeldarConfig) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.config.mediaJobConcurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        this.running++;
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(grant);
        if (i !== -1) this.waiting.splice(i, 1);
        reject(new UnavailableError('too many media jobs in flight; retry shortly', 'MEDIA_BUSY', 5));
      }, MEDIA_JOB_WAIT_MS);
      this.waiting.push(grant);
    });
  }
}

/**
 * Admission of live probes (`/cameras/{id}/test`): at most `global` in flight, and at most
 * `perPrincipal` of them for one caller. Pure bookkeeping; beyond either limit the answer is a
 * refusal at once (a probe may hang until its timeout, so queueing callers would only pile up).
 */
export class ProbeSlots {
  private running = 0;
  /** Slots held by callers without a per-caller limit (the system principal, auth off). */
  private unkeyed = 0;
  private readonly byKey = new Map<string, number>();

  constructor(
    private readonly global: number,
    private readonly perPrincipal: number,
  ) {}

  get inFlight(): number {
    return this.running;
  }

  /** Take a slot for `key` (null: a caller without a per-caller limit): null when granted, else which
   * limit refused it. */
  acquire(key: string | null): 'global' | 'principal' | null {
    if (key === null) {
      if (this.running >= this.global) return 'global';
      this.running++;
      this.unkeyed++;
      return null;
    }
    const mine = this.byKey.get(key) ?? 0;
    if (mine >= this.perPrincipal) return 'principal';
    if (this.running >= this.global) return 'global';
    this.running++;
    this.byKey.set(key, mine + 1);
    return null;
  }

  release(key: string | null): void {
    if (key === null) {
      if (this.unkeyed <= 0) return;
      this.unkeyed--;
      this.running--;
      return;
    }
    const mine = this.byKey.get(key) ?? 0;
    if (mine <= 0) return;
    this.running--;
    if (mine === 1) this.byKey.delete(key);
    else this.byKey.set(key, mine - 1);
  }
}

/** The probe governor: HELDAR_PROBE_CONCURRENCY probes at once, HELDAR_PROBE_CONCURRENCY_PER_PRINCIPAL
 * per caller; beyond, 503 `PROBE_BUSY` with Retry-After (the probe timeout). */
@Injectable()
export class ProbeGovernor {
  private readonly slots: ProbeSlots;

  constructor(@Inject(HeldarConfig) private readonly config: HeldarConfig) {
    this.slots = new ProbeSlots(config.probeConcurrency, config.probeConcurrencyPerPrincipal);
  }

  async run<T>(principalKey: string | null, fn: () => Promise<T>): Promise<T> {
    const refused = this.slots.acquire(principalKey);
    if (refused) {
      const retryAfter = Math.max(1, Math.ceil(this.config.cameraTestTimeoutMs / 1000));
      throw new UnavailableError(
        refused === 'principal'
          ? `at most ${this.config.probeConcurrencyPerPrincipal} camera probes in flight per caller; retry in ${retryAfter} s`
          : `at most ${this.config.probeConcurrency} camera probes in flight; retry in ${retryAfter} s`,
        'PROBE_BUSY',
        retryAfter,
      );
    }
    try {
      return await fn();
    } finally {
      this.slots.release(principalKey);
    }
  }
}
