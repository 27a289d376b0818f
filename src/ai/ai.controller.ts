import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import type { Response } from 'express';
import { RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import type { JsonObject } from '../database/columns';
import { AiRepository } from './ai.repository';
import { type AiTaskDto, AiTasksService, toTaskDto, type WorkerTaskDto } from './ai-tasks.service';
import { type IngestResult, IngestService } from './ingest.service';
import { QueryLimit } from '../common/validation';

class CreateAiTaskDto {
  @ApiProperty({ example: 'object_detection' })
  @IsString()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'task_type must be 1 to 64 of letters, digits, _ . : -' })
  task_type!: string;
  @ApiPropertyOptional({ enum: ['sub', 'main'], default: 'sub' })
  @IsOptional()
  @IsIn(['sub', 'main'])
  stream_profile?: 'sub' | 'main';
  @ApiPropertyOptional({ description: 'clamped to 0.1..30' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  fps?: number;
  @ApiPropertyOptional({ description: 'clamped to 160..3840' }) @IsOptional() @IsInt() width?: number;
  @ApiPropertyOptional({ type: Object }) @IsOptional() @IsObject() config?: JsonObject;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
}

class UpdateAiTaskDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'task_type must be 1 to 64 of letters, digits, _ . : -' })
  task_type?: string;
  @ApiPropertyOptional({ enum: ['sub', 'main'] }) @IsOptional() @IsIn(['sub', 'main']) stream_profile?:
    'sub' | 'main';
  @ApiPropertyOptional() @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) fps?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() width?: number;
  @ApiPropertyOptional({ type: Object }) @IsOptional() @IsObject() config?: JsonObject;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
}

class AiTaskResponse {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty() task_type!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ enum: ['sub', 'main'] }) stream_profile!: string;
  @ApiProperty() fps!: number;
  @ApiProperty() width!: number;
  @ApiProperty({ type: Object }) config!: JsonObject;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

class WorkerTaskResponse {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty() task_type!: string;
  @ApiProperty({ enum: ['sub', 'main'] }) stream_profile!: string;
  @ApiProperty() fps!: number;
  @ApiProperty() width!: number;
  @ApiProperty({ type: Object }) config!: JsonObject;
  @ApiProperty({ description: 'where to pull this task’s latest frame' }) frame_url!: string;
}

class DiscoveryQuery {
  @ApiPropertyOptional({ description: 'heartbeat + share of the tasks among this credential’s live workers' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'worker_id must be 1 to 64 of letters, digits, _ . : -' })
  worker_id?: string;
}

/** Documentation of the ingest body (validated by hand on the hot path). */
class IngestDetectionSchema {
  @ApiPropertyOptional() label?: string;
  @ApiPropertyOptional({ minimum: 0, maximum: 1 }) confidence?: number;
  @ApiPropertyOptional({ type: [Number], description: 'normalized [x, y, w, h], top-left origin' })
  bbox?: number[];
  @ApiPropertyOptional({ description: 'string or number' }) track_id?: string;
  @ApiPropertyOptional({ type: Object, description: '`source` and `_prov` are set by the kernel' })
  attributes?: JsonObject;
}
class IngestEventSchema {
  @ApiProperty({ description: '^[a-z0-9_]{1,64}$, not a kernel prefix' }) event_type!: string;
  @ApiPropertyOptional({ enum: ['info', 'warning'] }) severity?: string;
  @ApiPropertyOptional({ type: Object }) payload?: JsonObject;
}
class IngestSchema {
  @ApiProperty() camera_id!: string;
  @ApiProperty() task_type!: string;
  @ApiPropertyOptional({ description: 'RFC 3339; default now' }) timestamp?: string;
  @ApiPropertyOptional({ description: 'idempotency key: a replayed (camera, frame_id) writes nothing' })
  frame_id?: string;
  @ApiProperty({ type: [IngestDetectionSchema], maxItems: 1000 }) detections!: IngestDetectionSchema[];
  @ApiPropertyOptional({ type: IngestEventSchema }) event?: IngestEventSchema;
}
class IngestResponse {
  @ApiProperty() detections_ingested!: number;
  @ApiProperty() duplicate!: boolean;
}

class DetectionQuery {
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) label?: string;
  @QueryLimit(200, 5000)
  limit?: number;
}

class DetectionResponse {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty() task_type!: string;
  @ApiProperty() timestamp!: string;
  @ApiProperty() label!: string;
  @ApiProperty({ nullable: true, type: Number }) confidence!: number | null;
  @ApiProperty({ nullable: true, type: [Number] }) bbox!: number[] | null;
  @ApiProperty({ nullable: true, type: String }) track_id!: string | null;
  @ApiProperty({ type: Object }) attributes!: JsonObject;
  @ApiProperty({ nullable: true, type: String }) frame_id!: string | null;
  @ApiProperty() created_at!: string;
}

@ApiTags('ai')
@Controller('api/v1')
export class AiController {
  constructor(
    private readonly tasks: AiTasksService,
    private readonly ingestService: IngestService,
    private readonly repo: AiRepository,
  ) {}

  @Get('cameras/:id/ai-tasks')
  @RequireCapability('ai:tasks')
  @ApiOkResponse({ type: [AiTaskResponse] })
  async list(@Param('id') id: string): Promise<AiTaskDto[]> {
    return (await this.tasks.listForCamera(id)).map(toTaskDto);
  }

  @Post('cameras/:id/ai-tasks')
  @RequireCapability('registry:manage')
  @ApiOperation({
    summary: 'Create a task (201), or get the existing one for camera + task_type + stream_profile (200)',
  })
  @ApiCreatedResponse({ type: AiTaskResponse })
  async create(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: CreateAiTaskDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AiTaskDto> {
    const { task, created } = await this.tasks.create(p, id, dto);
    res.status(created ? 201 : 200);
    return toTaskDto(task);
  }

  @Patch('ai-tasks/:id')
  @RequireCapability('registry:manage')
  @ApiOkResponse({ type: AiTaskResponse })
  async update(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateAiTaskDto,
  ): Promise<AiTaskDto> {
    return toTaskDto(await this.tasks.update(p, id, dto));
  }

  @Delete('ai-tasks/:id')
  @HttpCode(204)
  @RequireCapability('registry:manage')
  async remove(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.tasks.delete(p, id);
  }

  @Get('ai/tasks')
  @RequireCapability('ai:tasks')
  @ApiOperation({
    summary: 'Worker discovery: enabled tasks on enabled cameras (this worker’s share with worker_id)',
  })
  @ApiOkResponse({ type: [WorkerTaskResponse] })
  discover(@Principal() p: Principal, @Query() q: DiscoveryQuery): Promise<WorkerTaskDto[]> {
    return this.tasks.discover(p, q.worker_id);
  }

  @Post('ai/events')
  @HttpCode(200)
  @RequireCapability('ai:ingest')
  @ApiOperation({
    summary:
      'Ingest a batch of detections (idempotent per camera + frame_id), optionally with a worker event',
  })
  @ApiBody({ type: IngestSchema })
  @ApiOkResponse({ type: IngestResponse })
  ingest(@Principal() p: Principal, @Body() body: unknown): Promise<IngestResult> {
    return this.ingestService.ingest(p, body);
  }

  @Get('cameras/:id/detections')
  @RequireCapability('events:read')
  @ApiOkResponse({ type: [DetectionResponse] })
  async detections(@Param('id') id: string, @Query() q: DetectionQuery): Promise<DetectionResponse[]> {
    const rows = await this.repo.detections({
      cameraId: id,
      from: q.from ? new Date(q.from).toISOString() : undefined,
      to: q.to ? new Date(q.to).toISOString() : undefined,
      label: q.label,
      limit: q.limit ?? 200,
    });
    return rows.map((d) => ({
      id: d.id,
      camera_id: d.cameraId,
      task_type: d.taskType,
      timestamp: d.timestamp,
      label: d.label,
      confidence: d.confidence,
      bbox: d.bbox,
      track_id: d.trackId,
      attributes: d.attributes,
      frame_id: d.frameId === null ? null : d.frameId.replace(/^w:/, ''),
      created_at: d.createdAt,
    }));
  }
}
