import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One camera's recorder owner in a cluster: the node holding an unexpired lease records it.
 * `expires_at` and `acquired_at` come from the database clock (ISO-8601 UTC text). */
@Entity('camera_leases')
@Index('idx_camera_leases_node', ['nodeId'])
export class CameraLeaseEntity {
  @PrimaryColumn({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', name: 'node_id' }) nodeId!: string;
  @Column({ type: 'text', name: 'expires_at' }) expiresAt!: string;
  @Column({ type: 'text', name: 'acquired_at' }) acquiredAt!: string;
}
