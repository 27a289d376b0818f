import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { jsonText } from '../../database/columns';

/** One weekly recording window of a camera (`scheduled` / `scheduled_event` modes). Times are
 * "HH:MM" on the wall clock of the camera's site time zone; `days` 0 = Monday … 6 = Sunday. */
@Entity('recording_schedules')
@Index('idx_recording_schedules_camera', ['cameraId'])
export class RecordingScheduleEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', transformer: jsonText }) days!: number[];
  @Column({ type: 'text', name: 'time_start' }) timeStart!: string;
  @Column({ type: 'text', name: 'time_end' }) timeEnd!: string;
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
