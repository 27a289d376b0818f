import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';
import { QueryLimit } from '../../common/validation';

export class AuditQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional({ description: 'actor id' }) @IsOptional() @IsString() @MaxLength(64) actor?: string;
  @ApiPropertyOptional({ description: 'an action, or a prefix ending in `*` (`view_*`: who watched what)' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  action?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) target_type?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) target_id?: string;
  @ApiPropertyOptional({ description: 'rows about this camera' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  camera_id?: string;
  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  cursor?: number;
  @QueryLimit(100, 1000)
  limit?: number;
}

export class AuditEntryDto {
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

export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] }) entries!: AuditEntryDto[];
  @ApiProperty({ nullable: true, type: Number }) next_cursor!: number | null;
}

export class AuditVerifyQueryDto {
  @ApiPropertyOptional({
    description:
      'a head hash pinned earlier (from this route or an `audit_head` event): is it still in the chain?',
  })
  @IsOptional()
  @Matches(/^[0-9a-f]{64}$/, { message: 'expect_head must be 64 lowercase hex digits' })
  expect_head?: string;
  @ApiPropertyOptional({
    description: "the pinned head's seq (pin both: then a head retention removed reads `pruned`)",
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  expect_seq?: number;
}

export class AuditHeadDto {
  @ApiProperty() seq!: number;
  @ApiProperty() hash!: string;
}

export class AuditExpectedHeadDto {
  @ApiProperty({ nullable: true, type: Number }) seq!: number | null;
  @ApiProperty() hash!: string;
  @ApiProperty({
    enum: ['present', 'pruned', 'missing', 'mismatch'],
    description:
      'present: still in the chain; pruned: removed by retention behind a checkpoint; missing: the newest rows were dropped; mismatch: the row at that seq was rewritten',
  })
  status!: string;
}

export class AuditVerifyDto {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ description: 'rows walked (the chain since its last retention checkpoint)' })
  checked!: number;
  @ApiProperty({ nullable: true, type: String }) first_broken_id!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'why ok is false' }) problem!: string | null;
  @ApiProperty({
    nullable: true,
    type: AuditHeadDto,
    description: 'the newest row: pin it outside the kernel and pass it back as expect_seq/expect_head',
  })
  head!: AuditHeadDto | null;
  @ApiPropertyOptional({ type: AuditExpectedHeadDto }) expected_head?: AuditExpectedHeadDto;
}
