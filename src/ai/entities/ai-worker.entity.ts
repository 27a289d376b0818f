import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A worker id seen by task discovery, bound to the credential that first used it. */
@Entity('ai_workers')
export class AiWorkerEntity {
  @PrimaryColumn({ type: 'text', name: 'worker_id' }) workerId!: string;
  @Column({ type: 'text' }) credential!: string;
  @Column({ type: 'text', name: 'last_seen' }) lastSeen!: string;
}
