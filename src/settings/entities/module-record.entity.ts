import { Column, Entity, PrimaryColumn } from 'typeorm';

export type ModuleKind = 'builtin' | 'sidecar';
export const MODULE_STATES = ['loaded', 'running', 'stopped', 'failed'] as const;
export type ModuleState = (typeof MODULE_STATES)[number];

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
  /** Why the module is `failed` (null in any other state). */
  @Column({ type: 'text', nullable: true }) reason!: string | null;
  /** When the module entered its state (null only for rows no one has written since the column came). */
  @Column({ type: 'text', nullable: true }) since!: string | null;
}
