import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Stored recorded ranges: per camera and one-hour bucket (by segment start), runs of segments
 * with holes of 2 s or less joined, kept in the same transaction as the segment rows. The
 * timeline and gaps read these instead of every segment of the window.
 */
@Entity('coverage')
export class CoverageEntity {
  @PrimaryColumn({ type: 'text', name: 'camera_id' }) cameraId!: string;
  /** Start of the piece's first segment (so the piece's bucket is this time's hour). */
  @PrimaryColumn({ type: 'text', name: 'start_time' }) startTime!: string;
  /** Latest end among the piece's segments. */
  @Column({ type: 'text', name: 'end_time' }) endTime!: string;
  @Column({ type: 'integer', name: 'segment_count' }) segmentCount!: number;
  /** Start of the piece's last segment: a segment starting at or after it appends. */
  @Column({ type: 'text', name: 'last_start' }) lastStart!: string;
}
