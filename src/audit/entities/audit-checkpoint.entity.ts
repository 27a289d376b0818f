import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Written by retention before it removes the oldest audit rows: every row up to `upto_seq` goes,
 * and the first row kept must link to `anchor_hash` — so removing rows outside retention still
 * shows as a broken chain.
 */
@Entity('audit_checkpoints')
export class AuditCheckpointEntity {
  @PrimaryGeneratedColumn('increment', { type: 'integer' }) id!: number;
  @Column({ type: 'integer', name: 'upto_seq' }) uptoSeq!: number;
  @Column({ type: 'text', name: 'anchor_hash' }) anchorHash!: string;
  /** The retention cutoff that produced it. */
  @Column({ type: 'text', name: 'pruned_before' }) prunedBefore!: string;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
}
