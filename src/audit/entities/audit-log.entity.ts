import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { type JsonObject, jsonText } from '../../database/columns';

/** Append-only audit trail: rows are hash-chained and the database refuses UPDATE. */
@Entity('audit_log')
@Index('idx_audit_created', ['createdAt'])
@Index('idx_audit_actor', ['actorId'])
@Index('idx_audit_subject_camera', ['subjectCameraId'])
export class AuditLogEntity {
  @PrimaryGeneratedColumn('increment', { type: 'integer' }) seq!: number;
  @Index('uq_audit_id', { unique: true }) @Column({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'actor_kind' }) actorKind!: string;
  @Column({ type: 'text', name: 'actor_id' }) actorId!: string;
  @Column({ type: 'text', name: 'actor_name', nullable: true }) actorName!: string | null;
  @Column({ type: 'text', nullable: true }) role!: string | null;
  @Column({ type: 'text' }) action!: string;
  @Column({ type: 'text', name: 'target_type', nullable: true }) targetType!: string | null;
  @Column({ type: 'text', name: 'target_id', nullable: true }) targetId!: string | null;
  @Column({ type: 'text', default: '{}', transformer: jsonText }) detail!: JsonObject;
  @Column({ type: 'text', name: 'subject_camera_id', nullable: true }) subjectCameraId!: string | null;
  @Column({ type: 'text', name: 'request_id', nullable: true }) requestId!: string | null;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  /** SHA-256 of the previous row's hash and this row's content (the tamper-evident chain). */
  @Column({ type: 'text', name: 'prev_hash', default: '' }) prevHash!: string;
  @Column({ type: 'text', default: '' }) hash!: string;
}
