import { Injectable } from '@nestjs/common';
import { AiRepository } from './ai.repository';
import type { DetectionQuery, DetectionResponse } from './dto/ai.dto';

/** Reads of stored detections (ingest writes them: IngestService). */
@Injectable()
export class DetectionsService {
  constructor(private readonly repo: AiRepository) {}

  /** A camera's detections in [from, to], newest first, optionally of one label. */
  async list(cameraId: string, q: DetectionQuery): Promise<DetectionResponse[]> {
    const rows = await this.repo.detections({
      cameraId,
      from: q.from ? new Date(q.from).toISOString() : undefined,
      to: q.to ? new Date(q.to).toISOString() : undefined,
      label: q.label,
      limit: q.limit ?? 200,
    });
    return rows.map((d) => ({
      id: d.id,
      camera_id: d.cameraId,
      task_type: d.taskType,
      timestamp: d.timestamp,
      label: d.label,
      confidence: d.confidence,
      bbox: d.bbox,
      track_id: d.trackId,
      attributes: d.attributes,
      frame_id: d.frameId === null ? null : d.frameId.replace(/^w:/, ''),
      created_at: d.createdAt,
    }));
  }
}
