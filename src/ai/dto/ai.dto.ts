import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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
import type { JsonObject } from '../../database/columns';
import { QueryLimit } from '../../common/validation';

export class CreateAiTaskDto {
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

export class UpdateAiTaskDto {
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

export class AiTaskResponse {
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

export class WorkerTaskResponse {
  @ApiProperty() id!: string;
  @ApiProperty() camera_id!: string;
  @ApiProperty() task_type!: string;
  @ApiProperty({ enum: ['sub', 'main'] }) stream_profile!: string;
  @ApiProperty() fps!: number;
  @ApiProperty() width!: number;
  @ApiProperty({ type: Object }) config!: JsonObject;
  @ApiProperty({ description: 'where to pull this task’s latest frame' }) frame_url!: string;
}

export class DiscoveryQuery {
  @ApiPropertyOptional({ description: 'heartbeat + share of the tasks among this credential’s live workers' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'worker_id must be 1 to 64 of letters, digits, _ . : -' })
  worker_id?: string;
}

/** Documentation of the ingest body (validated by hand on the hot path). */
export class IngestDetectionSchema {
  @ApiPropertyOptional() label?: string;
  @ApiPropertyOptional({ minimum: 0, maximum: 1 }) confidence?: number;
  @ApiPropertyOptional({ type: [Number], description: 'normalized [x, y, w, h], top-left origin' })
  bbox?: number[];
  @ApiPropertyOptional({ description: 'string or number' }) track_id?: string;
  @ApiPropertyOptional({ type: Object, description: '`source` and `_prov` are set by the kernel' })
  attributes?: JsonObject;
}
export class IngestEventSchema {
  @ApiProperty({ description: '^[a-z0-9_]{1,64}$, not a kernel prefix' }) event_type!: string;
  @ApiPropertyOptional({ enum: ['info', 'warning'] }) severity?: string;
  @ApiPropertyOptional({ type: Object }) payload?: JsonObject;
}
export class IngestSchema {
  @ApiProperty() camera_id!: string;
  @ApiProperty() task_type!: string;
  @ApiPropertyOptional({ description: 'RFC 3339; default now' }) timestamp?: string;
  @ApiPropertyOptional({ description: 'idempotency key: a replayed (camera, frame_id) writes nothing' })
  frame_id?: string;
  @ApiProperty({ type: [IngestDetectionSchema], maxItems: 1000 }) detections!: IngestDetectionSchema[];
  @ApiPropertyOptional({ type: IngestEventSchema }) event?: IngestEventSchema;
}
export class IngestResponse {
  @ApiProperty() detections_ingested!: number;
  @ApiProperty() duplicate!: boolean;
}

export class DetectionQuery {
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) label?: string;
  @QueryLimit(200, 5000)
  limit?: number;
}

export class DetectionResponse {
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
