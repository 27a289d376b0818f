import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/decorators';
import { CamerasService } from '../cameras/cameras.service';
import { CameraOwnership } from '../cluster/camera-leases.ownership';
import { HeldarConfig } from '../config/heldar-config';
import { DatabaseService } from '../database/database.service';
import { RecorderService } from '../recorder/recorder.service';
import { camerasToCount, recordingPercent } from './readiness';

interface Readiness {
  ready: boolean;
  reason?: string;
  recording_pct?: number;
  required_pct?: number;
}

@ApiTags('system')
@Controller()
export class HealthController {
  constructor(
    private readonly db: DatabaseService,
    private readonly cameras: CamerasService,
    private readonly recorder: RecorderService,
    private readonly ownership: CameraOwnership,
    @Inject(HeldarConfig) private readonly config: HeldarConfig,
  ) {}

  @Get('healthz')
  @Public()
  @ApiOkResponse({ description: 'the process is up', schema: { example: { status: 'ok' } } })
  healthz(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Public()
  @ApiOkResponse({ schema: { example: { ready: true } } })
  @ApiServiceUnavailableResponse({
    schema: {
      example: { ready: false, reason: 'insufficient_recorders', recording_pct: 50, required_pct: 90 },
    },
    description:
      '`database` when the store does not answer; `insufficient_recorders` below HELDAR_READYZ_MIN_RECORDING_PERCENT',
  })
  async readyz(@Res({ passthrough: true }) res: Response): Promise<Readiness> {
    if (!(await this.db.ping())) {
      res.status(503).setHeader('Retry-After', '5');
      return { ready: false, reason: 'database' };
    }
    const required = this.config.readyzMinRecordingPercent;
    if (required <= 0) return { ready: true };
    // Of the cameras that should record (enabled, record_enabled; none when recording is off
    // globally) and are this node's to record (see camerasToCount), the share actually recording.
    const expected = this.config.recorderEnabled ? await this.cameras.listRecordingExpectedIds() : [];
    const unleased =
      expected.length > 0 && this.ownership.hasRoom() ? await this.ownership.unleased(expected) : [];
    const counted = camerasToCount(expected, {
      holds: (id) => this.ownership.owns(id),
      unleased: new Set(unleased),
    });
    const recording = new Set(
      this.recorder
        .statusSnapshot()
        .filter((s) => s.state === 'recording')
        .map((s) => s.cameraId),
    );
    const pct = recordingPercent(counted, recording);
    if (pct < required) {
      res.status(503).setHeader('Retry-After', '15');
      return { ready: false, reason: 'insufficient_recorders', recording_pct: pct, required_pct: required };
    }
    return { ready: true, recording_pct: pct, required_pct: required };
  }
}
