import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class EvidenceLockDto {
  @ApiPropertyOptional({ description: 'groups locked segments into an incident' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[A-Za-z0-9._:-]+$/, { message: 'incident_id may hold letters, digits, . _ : -' })
  incident_id?: string;
}

export class IncidentDto {
  @ApiProperty() incident_id!: string;
  @ApiProperty() segment_count!: number;
  @ApiProperty() total_bytes!: number;
  @ApiProperty() oldest_start!: string;
  @ApiProperty() newest_end!: string;
}
