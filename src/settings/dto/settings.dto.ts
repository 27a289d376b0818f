import { ApiProperty } from '@nestjs/swagger';

export class ModuleRecordDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() version!: string;
  @ApiProperty({ enum: ['builtin', 'sidecar'] }) kind!: string;
  @ApiProperty({ enum: ['loaded', 'running', 'stopped', 'failed'] }) state!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'why the module is failed (null otherwise)' })
  reason!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'when the module entered its state' })
  since!: string | null;
  @ApiProperty() updated_at!: string;
}
