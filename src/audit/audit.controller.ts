import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { FleetOnly, RequireCapability } from '../auth/decorators';
import { AuditService } from './audit.service';

class AuditQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional({ description: 'actor id' }) @IsOptional() @IsString() @MaxLength(64) actor?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) action?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) target_type?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) target_id?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) camera_id?: string;
  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  cursor?: number;
  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

class AuditEntryDto {
  @ApiProperty() id!: string;
  @ApiProperty() seq!: number;
  @ApiProperty({ enum: ['system', 'user', 'api_key'] }) actor_kind!: string;
  @ApiProperty() actor_id!: string;
  @ApiProperty({ nullable: true, type: String }) actor_name!: string | null;
  @ApiProperty({ nullable: true, type: String }) role!: string | null;
  @ApiProperty() action!: string;
  @ApiProperty({ nullable: true, type: String }) target_type!: string | null;
  @ApiProperty({ nullable: true, type: String }) target_id!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) detail!: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String }) subject_camera_id!: string | null;
  @ApiProperty({ nullable: true, type: String }) request_id!: string | null;
  @ApiProperty() created_at!: string;
  @ApiProperty() hash!: string;
}

class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] }) entries!: AuditEntryDto[];
  @ApiProperty({ nullable: true, type: Number }) next_cursor!: number | null;
}

class AuditVerifyDto {
  @ApiProperty() ok!: boolean;
  @ApiProperty() checked!: number;
  @ApiProperty({ nullable: true, type: String }) first_broken_id!: string | null;
}

@ApiTags('audit')
@Controller('api/v1/audit')
@RequireCapability('registry:manage')
@FleetOnly()
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'Audit entries, newest first' })
  @ApiOkResponse({ type: AuditPageDto })
  async getAll(@Query() q: AuditQueryDto): Promise<AuditPageDto> {
    const { entries, nextCursor } = await this.audit.getAll({
      from: q.from ? new Date(q.from).toISOString() : undefined,
      to: q.to ? new Date(q.to).toISOString() : undefined,
      actor: q.actor,
      action: q.action,
      targetType: q.target_type,
      targetId: q.target_id,
      cameraId: q.camera_id,
      cursor: q.cursor,
      limit: q.limit ?? 100,
    });
    return {
      entries: entries.map((e) => ({
        id: e.id,
        seq: e.seq,
        actor_kind: e.actorKind,
        actor_id: e.actorId,
        actor_name: e.actorName,
        role: e.role,
        action: e.action,
        target_type: e.targetType,
        target_id: e.targetId,
        detail: e.detail,
        subject_camera_id: e.subjectCameraId,
        request_id: e.requestId,
        created_at: e.createdAt,
        hash: e.hash,
      })),
      next_cursor: nextCursor,
    };
  }

  @Get('verify')
  @ApiOperation({ summary: 'Walk the hash chain; the first row whose link does not hold' })
  @ApiOkResponse({ type: AuditVerifyDto })
  verify(): Promise<AuditVerifyDto> {
    return this.audit.verify();
  }
}
