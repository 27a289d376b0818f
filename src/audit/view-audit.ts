import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { AuditService } from './audit.service';

/** Viewing actions written to the audit log (`GET /api/v1/audit?action=view_*&camera_id=…`). */
export type ViewAction = 'view_playback' | 'view_live' | 'view_snapshot' | 'view_segment';

/** One row per (viewer, action, camera, target) within this window: a player's many requests are one view. */
export const VIEW_COALESCE_MS = 10 * 60_000;
const MAX_KEYS = 10_000;

/**
 * Writes "who watched what" rows, coalesced: a live player re-requesting its URLs, a scrubber taking
 * snapshots, a player reading a segment by byte ranges each make one row per window, not one per request.
 */
@Injectable()
export class ViewAudit {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Records the view unless the same one was recorded within the window; true when written. */
  async record(
    p: Principal,
    action: ViewAction,
    cameraId: string,
    target: { type: string; id: string },
    detail: Record<string, unknown> = {},
  ): Promise<boolean> {
    const nowMs = this.clock.nowMs();
    const key = `${action}\n${p.kind}:${p.id}\n${cameraId}\n${target.type}:${target.id}`;
    const last = this.seen.get(key);
    if (last !== undefined && nowMs - last < VIEW_COALESCE_MS && nowMs >= last) return false;
    this.seen.delete(key);
    this.seen.set(key, nowMs);
    while (this.seen.size > MAX_KEYS) this.seen.delete(this.seen.keys().next().value!);
    await this.audit.record(p, action, target.type, target.id, { camera_id: cameraId, ...detail });
    return true;
  }
}
