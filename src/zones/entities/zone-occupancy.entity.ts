import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** How many tracks are inside a zone now (written when it changes). */
@Entity('zone_occupancy')
@Index('idx_zone_occupancy_camera', ['cameraId'])
export class ZoneOccupancyEntity {
  @PrimaryColumn({ type: 'text', name: 'zone_id' }) zoneId!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'integer', default: 0 }) count!: number;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
