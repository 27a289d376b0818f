import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Key/value settings; `value` is JSON text, or a sealed JSON text (`enc:v2:`, bound to its key) when `secret`. */
@Entity('settings')
export class SettingEntity {
  @PrimaryColumn({ type: 'text' }) key!: string;
  @Column({ type: 'text' }) value!: string;
  @Column({ type: 'boolean', default: false }) secret!: boolean;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
