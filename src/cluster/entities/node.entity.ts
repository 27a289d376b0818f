import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A kernel sharing this store (`HELDAR_NODE_ID`), as its heartbeat last wrote it. `boot_id`, `host`
 * and `pid` say which process holds the id now (a second kernel with the same id is refused while
 * this one lives); `stopped_at` is set by a graceful stop.
 */
@Entity('nodes')
export class NodeEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) url!: string;
  @Column({ type: 'text' }) version!: string;
  @Column({ type: 'text', name: 'started_at' }) startedAt!: string;
  @Column({ type: 'text', name: 'last_seen' }) lastSeen!: string;
  @Column({ type: 'integer' }) capacity!: number;
  @Column({ type: 'integer', name: 'cameras_held', default: 0 }) camerasHeld!: number;
  @Column({ type: 'text', name: 'boot_id' }) bootId!: string;
  @Column({ type: 'text' }) host!: string;
  @Column({ type: 'integer' }) pid!: number;
  @Column({ type: 'text', name: 'stopped_at', nullable: true }) stoppedAt!: string | null;
}
