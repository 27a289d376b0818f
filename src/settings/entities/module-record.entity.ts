import { Column, Entity, PrimaryColumn } from 'typeorm';

export type ModuleKind = 'builtin' | 'sidecar';
export type ModuleState = 'loaded' | 'running' | 'stopped' | 'failed';

/** The kernel's own module registry (the oxide_k seed): one row per module with its lifecycle. */
@Entity('module_records')
export class ModuleRecordEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) version!: string;
  @Column({ type: 'text' }) kind!: ModuleKind;
  @Column({ type: 'text' }) state!: ModuleState;
  @Column({ type: 'text', nullable: true }) description!: string | null;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
