import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type JsonObject, jsonText } from '../../database/columns';

export type StreamProfile = 'main' | 'sub';

/** What a worker should do on a camera, and how its frames are sampled (fps, width, profile). */
@Entity('ai_tasks')
@Index('uq_ai_tasks_camera_type_profile', ['cameraId', 'taskType', 'streamProfile'], { unique: true })
export class AiTaskEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'camera_id' }) cameraId!: string;
  @Column({ type: 'text', name: 'task_type' }) taskType!: string;
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  @Column({ type: 'text', name: 'stream_profile', default: 'sub' }) streamProfile!: StreamProfile;
  @Column({ type: 'double precision' }) fps!: number;
  @Column({ type: 'integer' }) width!: number;
  @Column({ type: 'text', default: '{}', transformer: jsonText }) config!: JsonObject;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
