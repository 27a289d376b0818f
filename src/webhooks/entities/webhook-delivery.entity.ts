import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type DeliveryStatus = 'pending' | 'delivering' | 'retrying' | 'delivered' | 'dead';

/** One event for one subscription. Its id is the Standard Webhooks `webhook-id` (same on retries). */
@Entity('webhook_deliveries')
@Index('uq_webhook_deliveries_event', ['webhookId', 'eventSeq'], { unique: true })
@Index('idx_webhook_deliveries_due', ['status', 'nextAttemptAt'])
@Index('idx_webhook_deliveries_created', ['createdAt'])
export class WebhookDeliveryEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', name: 'webhook_id' }) webhookId!: string;
  @Column({ type: 'integer', name: 'event_seq' }) eventSeq!: number;
  @Column({ type: 'text', name: 'event_type' }) eventType!: string;
  @Column({ type: 'text' }) status!: DeliveryStatus;
  @Column({ type: 'integer', default: 0 }) attempts!: number;
  @Column({ type: 'text', name: 'next_attempt_at', nullable: true }) nextAttemptAt!: string | null;
  @Column({ type: 'integer', name: 'last_status_code', nullable: true }) lastStatusCode!: number | null;
  @Column({ type: 'text', name: 'last_error', nullable: true }) lastError!: string | null;
  @Column({ type: 'text', name: 'delivered_at', nullable: true }) deliveredAt!: string | null;
  @Column({ type: 'text', name: 'created_at' }) createdAt!: string;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
