import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

export class FrameQuery {
  @ApiPropertyOptional({ enum: ['sub', 'main'], default: 'sub' })
  @IsOptional()
  @IsIn(['sub', 'main'])
  profile?: 'sub' | 'main';
  @ApiPropertyOptional({ description: 'the task pulling the frame (informational)' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  task?: string;
}

export class SamplerDto {
  @ApiProperty() camera_id!: string;
  @ApiProperty({ enum: ['sub', 'main'] }) stream_profile!: string;
  @ApiProperty({ enum: ['connecting', 'sampling', 'offline', 'error', 'budget_exhausted'] }) state!: string;
  @ApiProperty() priority!: number;
  @ApiProperty() requested_fps!: number;
  @ApiProperty() requested_width!: number;
  @ApiProperty({ description: 'granted by the global budget (0 when shed)' }) fps!: number;
  @ApiProperty() width!: number;
  @ApiProperty({ nullable: true, type: String }) last_error!: string | null;
}
