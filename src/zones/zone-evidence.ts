import { Inject, Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { HeldarConfig } from '../config/heldar-config';
import { StorageAdapter } from '../media/storage.adapter';
import { SamplerService } from '../sampler/sampler.service';

/** The evidence file of a zone event (`zoneevt_<id>.jpg`) → the event id, or null. */
export function evidenceEventId(file: string): string | null {
  return /^zoneevt_(zev_[A-Za-z0-9]+)\.jpg$/.exec(file)?.[1] ?? null;
}

/**
 * Evidence frames of zone events: a copy of the camera's latest sub-stream frame (the sampler's
 * file) in the snapshots folder, served at `/media/snapshots/zoneevt_<id>.jpg`.
 */
@Injectable()
export class ZoneEvidence {
  private dirReady = false;

  constructor(
    private readonly sampler: SamplerService,
    private readonly storage: StorageAdapter,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  /** Copy the camera's latest sub frame as the evidence of zone event `zevId`; null without one. */
  async capture(cameraId: string, zevId: string): Promise<string | null> {
    const dir = join(this.config.dataDirAbs, 'snapshots');
    try {
      if (!this.dirReady) {
        await this.storage.ensureDir(dir);
        this.dirReady = true;
      }
      const latest = this.sampler.frameFile(cameraId, 'sub');
      // A camera without a sampled frame (common for worker-only cameras): one stat, not a copy attempt.
      if (!(await this.storage.stat(latest))) return null;
      await this.storage.copy(latest, join(dir, `zoneevt_${zevId}.jpg`));
      return `/media/snapshots/zoneevt_${zevId}.jpg`;
    } catch {
      return null;
    }
  }
}
