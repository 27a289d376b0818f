import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A camera's day folder as the indexer's last full look at it found it: its mtime (read before
 * listing it) and how many recording files it held, every one with its segment row. While the
 * folder's mtime is unchanged, a reconciliation pass (and the orphan reclaim) need not list it.
 */
@Entity('indexed_days')
export class IndexedDayEntity {
  @PrimaryColumn({ type: 'text', name: 'camera_id' }) cameraId!: string;
  /** The folder's name, `YYYY-MM-DD`. */
  @PrimaryColumn({ type: 'text' }) day!: string;
  @Column({ type: 'double precision', name: 'mtime_ms' }) mtimeMs!: number;
  @Column({ type: 'integer' }) files!: number;
}
