import { Body, Controller, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsNumber, IsOptional, IsPositive, Min } from 'class-validator';
import { AuditService } from '../audit/audit.service';
import { FleetOnly, RequireCapability } from '../auth/decorators';
import { canSeeCamera, Principal } from '../auth/principal';
import { CamerasService } from '../cameras/cameras.service';
import { isEventMode } from '../cameras/record-mode';
import { BadRequestError } from '../common/errors';
import { HeldarConfig } from '../config/heldar-config';
import { StorageAdapter } from '../media/storage.adapter';
import { SettingsService } from '../settings/settings.service';
import { SegmentPruner } from '../timeline/segment-pruner.service';
import { Inject } from '@nestjs/common';
import { SnapshotsService } from '../snapshots/snapshots.service';
import { forecast, type Forecast, keptWriteRate } from './retention-logic';
import {
  GIB,
  RetentionService,
  SETTING_MAX_BYTES,
  SETTING_MIN_FREE_BYTES,
  type SweepReport,
} from './retention.service';

class SweepQueryDto {
  @ApiPropertyOptional({
    description:
      'true: also reclaim orphan files (lists every day folder of every camera; otherwise hourly on its own)',
    enum: ['true', 'false'],
    default: 'false',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'orphans must be true or false' })
  orphans?: 'true' | 'false';
}

class UpdateRetentionDto {
  @ApiPropertyOptional({
    description:
      'cap on all recordings in GiB (> 0); null removes the override (back to HELDAR_MAX_RECORDINGS_GB)',
    nullable: true,
    type: Number,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive({ message: 'max_recordings_gb must be greater than 0' })
  max_recordings_gb?: number | null;

  @ApiPropertyOptional({
    description: 'free space kept on the recordings volume in GiB (>= 0); null removes the override',
    nullable: true,
    type: Number,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  min_free_disk_gb?: number | null;
}

class RetentionDto {
  @ApiProperty() max_recordings_gb!: number;
  @ApiProperty() max_recordings_bytes!: number;
  @ApiProperty({ description: 'true when set through the API rather than the environment' })
  max_overridden!: boolean;
  @ApiProperty() min_free_disk_gb!: number;
  @ApiProperty() min_free_disk_bytes!: number;
  @ApiProperty() min_free_overridden!: boolean;
  @ApiProperty() interval_s!: number;
  @ApiProperty() clip_retention_hours!: number;
  @ApiProperty() snapshot_retention_hours!: number;
  @ApiProperty() detection_retention_hours!: number;
  @ApiProperty() audit_retention_days!: number;
  @ApiProperty({
    description:
      'recordings, protected (evidence/read-locked) and scheduled-snapshot bytes, and the volume; null for scoped callers',
    nullable: true,
    type: Object,
  })
  usage!: {
    recordings_bytes: number;
    protected_bytes: number;
    /** Bytes of the scheduled snapshots (pruned by HELDAR_SNAPSHOT_RETENTION_HOURS). */
    snapshots_bytes: number;
    disk: { total_bytes: number; free_bytes: number } | null;
  } | null;
  @ApiProperty({
    description:
      "at the last 24 h write rate: days the store and each camera keep, each camera's fair share, whether its retention_hours is achievable and what limits it",
    type: Object,
  })
  forecast!: Forecast;
  @ApiProperty({ description: 'what the last sweep did', nullable: true, type: Object })
  last_sweep!: SweepReport | null;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

@ApiTags('system')
@Controller('api/v1/system/retention')
export class RetentionController {
  constructor(
    private readonly retention: RetentionService,
    private readonly segments: SegmentPruner,
    private readonly cameras: CamerasService,
    private readonly settings: SettingsService,
    private readonly storage: StorageAdapter,
    private readonly audit: AuditService,
    private readonly snapshots: SnapshotsService,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  @Get()
  @RequireCapability('system:read')
  @ApiOperation({ summary: 'Effective retention limits, usage, the forecast and the last sweep' })
  @ApiOkResponse({ type: RetentionDto })
  async get(@Principal() p: Principal): Promise<RetentionDto> {
    return this.describe(p);
  }

  @Put()
  @RequireCapability('admin')
  @FleetOnly()
  @ApiOperation({
    summary: 'Override the recordings cap and/or the free-disk floor (null clears an override)',
  })
  @ApiOkResponse({ type: RetentionDto })
  async put(@Principal() p: Principal, @Body() dto: UpdateRetentionDto): Promise<RetentionDto> {
    if (dto.max_recordings_gb === undefined && dto.min_free_disk_gb === undefined) {
      throw new BadRequestError('give max_recordings_gb and/or min_free_disk_gb', 'VALIDATION_FAILED');
    }
    if (typeof dto.min_free_disk_gb === 'number') {
      const disk = await this.disk();
      if (disk && dto.min_free_disk_gb * GIB >= disk.total_bytes) {
        throw new BadRequestError(
          `min_free_disk_gb (${dto.min_free_disk_gb}) is not below the size of the recordings volume (${round(disk.total_bytes / GIB)} GiB)`,
          'VALIDATION_FAILED',
        );
      }
    }
    const apply = async (key: string, gb: number | null | undefined) => {
      if (gb === undefined) return;
      if (gb === null) await this.settings.delete(key);
      else await this.settings.set(key, Math.round(gb * GIB));
    };
    await apply(SETTING_MAX_BYTES, dto.max_recordings_gb);
    await apply(SETTING_MIN_FREE_BYTES, dto.min_free_disk_gb);
    await this.audit.record(p, 'update_retention_limits', 'system', 'retention', {
      max_recordings_gb: dto.max_recordings_gb,
      min_free_disk_gb: dto.min_free_disk_gb,
    });
    return this.describe(p);
  }

  @Post('sweep')
  @HttpCode(200)
  @RequireCapability('admin')
  @FleetOnly()
  @ApiOperation({
    summary: 'Run a retention sweep now (with orphans=true, the orphan reclaim too) and report what it did',
  })
  @ApiOkResponse({ type: Object })
  async sweep(@Principal() p: Principal, @Query() q: SweepQueryDto): Promise<SweepReport> {
    const report = await this.retention.sweep({ orphans: q.orphans === 'true' });
    await this.audit.record(p, 'run_retention_sweep', 'system', 'retention', {
      deleted:
        report.age.deleted +
        report.camera_quota.deleted +
        report.size_cap.deleted +
        report.free_floor.deleted,
    });
    return report;
  }

  private async disk(): Promise<{ total_bytes: number; free_bytes: number } | null> {
    await this.storage.ensureDir(this.config.recordingsDirAbs);
    const s = await this.storage.diskStats(this.config.recordingsDirAbs);
    return s ? { total_bytes: s.totalBytes, free_bytes: s.freeBytes } : null;
  }

  private async describe(p: Principal): Promise<RetentionDto> {
    const limits = await this.retention.limits();
    const [usage, written, policies, disk, snaps] = await Promise.all([
      this.segments.usage(),
      this.segments.writtenInLast(24),
      this.cameras.retentionPolicies(),
      this.disk(),
      this.snapshots.usage(),
    ]);
    const eventCams = policies.filter((c) => isEventMode(c.recordMode)).map((c) => c.id);
    const kept =
      eventCams.length > 0 ? await this.segments.keptInLast(eventCams, 24) : new Map<string, number>();
    const byCam = new Map(usage.map((u) => [u.cameraId, u]));
    // Snapshots at steady state: what the last day's schedule writes for the whole retention, or
    // what is stored now when that is more.
    const snapshotBytes = (id: string) =>
      Math.max(
        snaps.bytes.get(id) ?? 0,
        ((snaps.bytesPerDay.get(id) ?? 0) * this.snapshots.retentionHours) / 24,
      );
    const f = forecast({
      cameras: policies.map((c) => ({
        cameraId: c.id,
        name: c.name,
        retentionHours: c.retentionHours,
        quotaBytes: c.quotaBytes,
        recordingsBytes: byCam.get(c.id)?.totalBytes ?? 0,
        protectedBytes: byCam.get(c.id)?.protectedBytes ?? 0,
        writeRateBytesPerDay: keptWriteRate(c.recordMode, written.get(c.id) ?? 0, kept.get(c.id) ?? 0),
        snapshotBytes: snapshotBytes(c.id),
      })),
      capBytes: limits.capBytes,
      minFreeBytes: limits.floorBytes,
      disk: disk ? { totalBytes: disk.total_bytes, freeBytes: disk.free_bytes } : null,
    });
    const fleet = p.cameraScope === 'all';
    return {
      max_recordings_gb: round(limits.capBytes / GIB),
      max_recordings_bytes: limits.capBytes,
      max_overridden: limits.capOverridden,
      min_free_disk_gb: round(limits.floorBytes / GIB),
      min_free_disk_bytes: limits.floorBytes,
      min_free_overridden: limits.floorOverridden,
      interval_s: this.config.retentionIntervalS,
      clip_retention_hours: this.config.clipRetentionHours,
      snapshot_retention_hours: this.config.snapshotRetentionHours,
      detection_retention_hours: this.config.detectionRetentionHours,
      audit_retention_days: this.config.auditRetentionDays,
      usage: fleet
        ? {
            recordings_bytes: usage.reduce((s, u) => s + u.totalBytes, 0),
            protected_bytes: usage.reduce((s, u) => s + u.protectedBytes, 0),
            snapshots_bytes: [...snaps.bytes.values()].reduce((s, b) => s + b, 0),
            disk,
          }
        : null,
      forecast: fleet
        ? f
        : {
            ...f,
            capacity_bytes: null,
            write_rate_bytes_per_day: 0,
            store_days: null,
            cameras: f.cameras.filter((c) => canSeeCamera(p, c.camera_id)),
          },
      last_sweep: fleet ? this.retention.lastSweep : null,
    };
  }
}
