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
}

export const DETECTION_CONSUMERS = Symbol('DETECTION_CONSUMERS');
