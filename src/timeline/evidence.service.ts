import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { NotFoundError } from '../common/errors';
import { loadScoped } from '../common/validation';
import type { IncidentDto } from './dto/evidence.dto';
import type { SegmentDto } from './dto/timeline.dto';
import type { SegmentEntity } from './entities/segment.entity';
import { TimelineRepository } from './timeline.repository';
import { toSegmentDto } from './timeline.service';

const scopeOf = (p: Principal) => (p.cameraScope === 'all' ? null : p.cameraScope);

/** Evidence locks (a durable hold retention never breaks) and the incidents they group into. */
@Injectable()
export class EvidenceService {
  constructor(
    private readonly repo: TimelineRepository,
    private readonly audit: AuditService,
  ) {}

  /** The segment, resolved through its camera's scope: for a scoped caller "missing" and "another
   * camera's" are the same 403. */
  private get(p: Principal, id: string): Promise<SegmentEntity> {
    return loadScoped(p, () => this.repo.getSegment(id), {
      forbidden: `credential is not scoped to the camera of segment \`${id}\``,
      notFound: () => new NotFoundError(`segment \`${id}\` not found`, 'SEGMENT_NOT_FOUND'),
    });
  }

  /** Hold (`locked`) or release a segment as evidence, audited in the same transaction. */
  async setLock(p: Principal, id: string, locked: boolean, incidentId?: string): Promise<SegmentDto> {
    const seg = await this.get(p, id);
    await this.repo.transaction(async () => {
      if (locked) {
        await this.repo.setEvidence(id, true, incidentId);
        await this.audit.record(p, 'evidence_lock', 'segment', id, {
          camera_id: seg.cameraId,
          incident_id: incidentId ?? null,
        });
      } else {
        await this.repo.setEvidence(id, false);
        await this.audit.record(p, 'evidence_unlock', 'segment', id, { camera_id: seg.cameraId });
      }
    });
    return toSegmentDto((await this.repo.getSegment(id))!);
  }

  listIncidents(p: Principal): Promise<IncidentDto[]> {
    return this.repo.incidents(scopeOf(p));
  }

  /** The segments of an incident, filtered to the caller's cameras. */
  async listIncidentSegments(p: Principal, id: string): Promise<SegmentDto[]> {
    return (await this.repo.incidentSegments(id, scopeOf(p))).map(toSegmentDto);
  }
}
