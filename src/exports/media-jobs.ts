import { Inject, Injectable } from '@nestjs/common';
import { UnavailableError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';

/** How long a media job may wait for a slot before the request is answered 503. */
export const MEDIA_JOB_WAIT_MS = 10_000;

/** The media-job governor: at most HELDAR_MEDIA_JOB_CONCURRENCY ffmpeg exports at once. */
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
