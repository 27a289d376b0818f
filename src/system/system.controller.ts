import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/decorators';
import { canSeeCamera, Principal } from '../auth/principal';
import { CamerasService } from '../cameras/cameras.service';
import { Clock } from '../common/clock';
import { HeldarConfig } from '../config/heldar-config';
import { StorageAdapter } from '../media/storage.adapter';
import { OverlayService } from '../overlay/overlay.service';
import { RecorderService } from '../recorder/recorder.service';
import { RetentionService } from '../retention/retention.service';
import { SegmentPruner } from '../timeline/segment-pruner.service';

const GIB = 1024 ** 3;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** `GET /api/v1/system`: what an operator checks first — cameras, recording, storage, runway. */
@ApiTags('system')
@Controller('api/v1/system')
export class SystemController {
  private readonly startedAt: string;

  constructor(
    private readonly cameras: CamerasService,
    private readonly recorder: RecorderService,
    private readonly segments: SegmentPruner,
    private readonly retention: RetentionService,
    private readonly storage: StorageAdapter,
    private readonly overlay: OverlayService,
    private readonly clock: Clock,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {
    this.startedAt = clock.nowIso();
  }

  @Get()
  @RequireCapability('system:read')
  @ApiOperation({
    summary: 'Version, uptime, camera and recording counts, storage, write rate and projected runway',
  })
  @ApiOkResponse({ type: Object })
  async get(@Principal() p: Principal) {
    const fleet = p.cameraScope === 'all';
    const ids = (await this.cameras.listIds()).filter((id) => canSeeCamera(p, id));
    const statuses = await this.recorder.listStatuses(ids);
    const usage = (await this.segments.usage()).filter((u) => canSeeCamera(p, u.cameraId));
    const totals = await this.segments.totals(fleet ? null : ids);
    const written = [...(await this.segments.writtenInLast(24)).entries()]
      .filter(([id]) => canSeeCamera(p, id))
      .reduce((s, [, b]) => s + b, 0);
    await this.storage.ensureDir(this.config.recordingsDirAbs);
    const disk = await this.storage.diskStats(this.config.recordingsDirAbs);
    const recordingsBytes = usage.reduce((s, u) => s + u.totalBytes, 0);
    const limits = await this.retention.limits();
    const nowMs = this.clock.nowMs();
    return {
      name: 'Heldar Core',
      version: process.env.npm_package_version ?? '0.1.0',
      started_at: this.startedAt,
      uptime_seconds: Math.round((nowMs - Date.parse(this.startedAt)) / 1000),
      recorder_enabled: this.config.recorderEnabled,
      cameras_total: ids.length,
      cameras_recording: statuses.filter((s) => s.state === 'recording').length,
      segments_total: totals.count,
      recordings_bytes: recordingsBytes,
      recordings_gb: round(recordingsBytes / GIB, 3),
      max_recordings_gb: round(limits.capBytes / GIB, 3),
      storage: {
        // Volume figures and runway are fleet-wide facts: withheld from camera-scoped callers.
        disk:
          fleet && disk
            ? {
                total_bytes: disk.totalBytes,
                free_bytes: disk.freeBytes,
                used_bytes: disk.totalBytes - disk.freeBytes,
                used_percent: round(((disk.totalBytes - disk.freeBytes) / disk.totalBytes) * 100, 1),
              }
            : null,
        recordings_bytes: recordingsBytes,
        segment_count: totals.count,
        oldest_segment: fleet ? totals.oldest : null,
        newest_segment: fleet ? totals.newest : null,
        write_rate_bytes_per_day: fleet ? written : null,
        projected_days_remaining: fleet && disk && written > 0 ? round(disk.freeBytes / written, 1) : null,
      },
      // The tunnel the site is reached through (observed, never managed); fleet callers only.
      remote_access: fleet ? await this.overlay.probe() : null,
    };
  }
}
