import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A camera's day folder as the indexer's last full look at it found it: its mtime (read before
 * listing it) and how many recording files it held, every one with its segment row. While the
 * folder's mtime is unchanged, a reconciliation pass (and the orphan reclaim) need not list it.
 * One row per node whose disk holds such a folder (per-node storage: after a failover within a
 * day two nodes each have one); `nodeId` is '' on a single node and with shared storage.
 */
@Entity('indexed_days')
export class IndexedDayEntity {
  @PrimaryColumn({ type: 'text', name: 'camera_id' }) cameraId!: string;
  /** The node whose disk holds the folder (`segments.node_id`), '' when rows carry no node. */
  @PrimaryColumn({ type: 'text', name: 'node_id' }) nodeId!: string;
  /** The folder's name, `YYYY-MM-DD`. */
  @PrimaryColumn({ type: 'text' }) day!: string;
  @Column({ type: 'double precision', name: 'mtime_ms' }) mtimeMs!: number;
  @Column({ type: 'integer' }) files!: number;
}
