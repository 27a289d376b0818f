import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Key/value settings: `value` is JSON text sealed with the kernel's key (`enc:v2:`, bound to
 * `settings.value:<key>`). `secret` is true on every row written since issue 20 (every value is
 * sealed); it stays so that an older kernel, which opened only rows marked secret, still reads them.
 */
@Entity('settings')
export class SettingEntity {
  @PrimaryColumn({ type: 'text' }) key!: string;
  @Column({ type: 'text' }) value!: string;
  @Column({ type: 'boolean', default: false }) secret!: boolean;
  @Column({ type: 'text', name: 'updated_at' }) updatedAt!: string;
}
