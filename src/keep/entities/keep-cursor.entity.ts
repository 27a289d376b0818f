import { Column, Entity, PrimaryColumn } from 'typeorm';

/** How far an event camera's segments are decided (kept or deleted): segments starting after
 * `decided_until` are read next, so a decision pass reads only new rows. */
@Entity('keep_cursors')
export class KeepCursorEntity {
  @PrimaryColumn({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', name: 'decided_until' }) decidedUntil!: string;
}
