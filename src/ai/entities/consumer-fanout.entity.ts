import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A consumer has taken a batch (claim before consume): the dedup key of fan-out and its replay. */
@Entity('consumer_fanout')
@Index('idx_consumer_fanout_at', ['fannedAt'])
export class ConsumerFanoutEntity {
  @PrimaryColumn({ type: 'text' }) consumer!: string;
  @PrimaryColumn({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @PrimaryColumn({ type: 'text', name: 'frame_id' }) frameId!: string;
  @Column({ type: 'text', name: 'fanned_at' }) fannedAt!: string;
}
