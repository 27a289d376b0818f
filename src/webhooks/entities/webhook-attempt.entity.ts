import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** The ledger: one row per HTTP attempt. */
@Entity('webhook_attempts')
@Index('idx_webhook_attempts_delivery', ['deliveryId'])
@Index('idx_webhook_attempts_created', ['createdAt'])
export class WebhookAttemptEntity {
  @PrimaryGeneratedColumn('increment', { type: 'integer' }) id!: number;
  @Column({ type: 'text', name: 'delivery_id' }) deliveryId!: string;
  @Column({ type: 'text', name: 'webhook_id' }) webhookId!: string;
  @Column({ type: 'integer' }) attempt!: number;
  @Column({ type: 'boolean' }) ok!: boolean;
  @Column({ type: 'integer', name: 'status_code', nullable: true }) statusCode!: number | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ type: 'integer', name: 'duration_ms' }) durationMs!: number;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
}
