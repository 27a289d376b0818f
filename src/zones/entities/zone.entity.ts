import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type JsonObject, jsonText } from '../../database/columns';

/** A region, presence area or line on a camera's image (normalized 0..1 coordinates, top-left origin). */
@Entity('zones')
@Index('uq_zones_camera_name', ['cameraId', 'name'], { unique: true })
export class ZoneEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text', default: 'region' }) kind!: 'region' | 'presence' | 'line';
  @Column({ type: 'text', transformer: jsonText }) polygon!: Array<[number, number]>;
  @Column({ type: 'double precision', name: 'dwell_seconds', default: 0 }) dwellSeconds!: number;
  @Column({ type: 'text', default: '[]', transformer: jsonText }) labels!: string[];
  @Column({ type: 'text', default: 'info' }) severity!: string;
  @Column({ type: 'text', default: '{}', transformer: jsonText }) config!: JsonObject;
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
