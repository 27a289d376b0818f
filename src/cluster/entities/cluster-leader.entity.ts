import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The leader lease (one row, `name` = 'leader'): held by the process `boot_id` until `expires_at` (database clock). */
@Entity('cluster_leader')
export class ClusterLeaderEntity {
  @PrimaryColumn({ type: 'text' }) name!: string;
  @Column({ type: 'text', name: 'node_id' }) nodeId!: string;
  @Column({ type: 'text', name: 'boot_id' }) bootId!: string;
  @Column({ type: 'text', name: 'acquired_at' }) acquiredAt!: string;
  @Column({ type: 'text', name: 'expires_at' }) expiresAt!: string;
}
