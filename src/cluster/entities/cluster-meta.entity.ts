import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A named value the nodes of a cluster agree on (`secret_check`); written once by the first node. */
@Entity('cluster_meta')
export class ClusterMetaEntity {
  @PrimaryColumn({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) value!: string;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
}
