import { Injectable } from '@nestjs/common';

/** Answers why a camera must not be deleted now, or null. */
export type CameraDeletionCheck = (cameraId: string) => Promise<string | null>;

/**
 * Modules that hold data a camera deletion would destroy (evidence-locked footage …) register a
 * check here; the cameras module consults them without knowing those modules or their tables.
 */
@Injectable()
export class CameraDeletionChecks {
  private readonly checks: CameraDeletionCheck[] = [];

  add(check: CameraDeletionCheck): void {
    this.checks.push(check);
  }

  /** The first objection, or null. */
  async objection(cameraId: string): Promise<string | null> {
    for (const check of this.checks) {
      const why = await check(cameraId);
      if (why) return why;
    }
    return null;
  }
}
