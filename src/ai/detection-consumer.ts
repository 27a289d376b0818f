import type { JsonObject } from '../database/columns';

/** One committed batch, as consumers see it (detections already provenance-stamped). */
export interface DetectionBatch {
  cameraId: string;
  siteId: string | null;
  taskType: string;
  /** Namespaced frame key (`w:<frame_id>`), or null when the batch had no frame id. */
  frameKey: string | null;
  /** The batch's time (worker timestamp, else server time at ingest). */
  timestamp: string;
  detections: Array<{
    id: string;
    label: string;
    confidence: number | null;
    bbox: number[] | null;
    trackId: string | null;
    attributes: JsonObject;
  }>;
}

/**
 * The seam between ingest and whatever reacts to detections (the zone engine, apps). Ingest never
 * branches on task types: it hands each committed batch to every consumer interested in it.
 * Register one with `{ provide: DETECTION_CONSUMERS, useExisting: MyConsumer }` in any module.
 */
export interface DetectionConsumer {
  /** Stable and unique: the dedup key of fan-out (boot fails on a duplicate). */
  readonly name: string;
  interestedIn(taskType: string): boolean;
  consume(batch: DetectionBatch): Promise<void>;
  /**
   * True when `consume` only computes and writes to the store (no network, no long waits): it then
   * runs inside the fan-out's own group-commit unit, in a savepoint with its claim, and the batch is
   * marked fanned out in the same commit (a throw rolls back its writes and its claim alone). Left
   * unset, the claim commits first and `consume` runs after it, outside any transaction.
   */
  readonly transactional?: boolean;
}

export const DETECTION_CONSUMERS = Symbol('DETECTION_CONSUMERS');
