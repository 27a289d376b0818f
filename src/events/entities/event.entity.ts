import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { type JsonObject, jsonText } from '../../database/columns';

/** An event. `seq` is the monotonic cursor (SSE `Last-Event-ID`, webhook cursors); `id` is a
 * UUIDv7 for external references. No FK on camera_id: events outlive their camera. */
@Entity('events')
@Index('idx_events_camera_seq', ['cameraId', 'seq'])
@Index('idx_events_type_seq', ['eventType', 'seq'])
@Index('idx_events_timestamp', ['timestamp'])
@Index('idx_events_created', ['createdAt'])
export class EventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'integer' }) seq!: number;
  @Index('uq_events_id', { unique: true }) @Column({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id', nullable: true }) cameraId!: string | null;
  @Column({ type: 'text', name: 'site_id', nullable: true }) siteId!: string | null;
  @Column({ type: 'text', name: 'event_type' }) eventType!: string;
  @Column({ type: 'text', default: 'info' }) severity!: string;
  @Column({ type: 'text' }) timestamp!: string;
  @Column({ type: 'text', default: '{}', transformer: jsonText }) payload!: JsonObject;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
}
