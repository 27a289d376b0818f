import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** What the zone engine saw happen (server time). */
@Entity('zone_events')
@Index('idx_zone_events_camera_ts', ['cameraId', 'timestamp'])
@Index('idx_zone_events_zone_ts', ['zoneId', 'timestamp'])
@Index('idx_zone_events_created', ['createdAt'])
export class ZoneEventEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', name: 'zone_id' }) zoneId!: string;
  @Column({ type: 'text', name: 'zone_name' }) zoneName!: string;
  @Column({ type: 'text', name: 'track_id' }) trackId!: string;
  @Column({ type: 'text', name: 'event_type' }) eventType!: string;
  @Column({ type: 'text' }) label!: string;
  @Column({ type: 'text' }) timestamp!: string;
  @Column({ type: 'double precision', name: 'dwell_seconds', nullable: true }) dwellSeconds!: number | null;
  @Column({ type: 'text', name: 'evidence_path', nullable: true }) evidencePath!: string | null;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
}
