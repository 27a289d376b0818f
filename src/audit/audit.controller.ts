import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FleetOnly, RequireCapability } from '../auth/decorators';
import { BadRequestError } from '../common/errors';
import { AuditService } from './audit.service';
import { AuditQueryDto, AuditPageDto, AuditVerifyQueryDto, AuditVerifyDto } from './dto/audit.dto';

@ApiTags('audit')
@Controller('api/v1/audit')
@RequireCapability('registry:manage')
@FleetOnly()
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'Audit entries, newest first' })
  @ApiOkResponse({ type: AuditPageDto })
  async getAll(@Query() q: AuditQueryDto): Promise<AuditPageDto> {
    const { entries, nextCursor } = await this.audit.list({
      from: q.from ? new Date(q.from).toISOString() : undefined,
      to: q.to ? new Date(q.to).toISOString() : undefined,
      actor: q.actor,
      action: q.action,
      targetType: q.target_type,
      targetId: q.target_id,
      cameraId: q.camera_id,
      cursor: q.cursor,
      limit: q.limit ?? 100,
    });
    return {
      entries: entries.map((e) => ({
        id: e.id,
        seq: e.seq,
        actor_kind: e.actorKind,
        actor_id: e.actorId,
        actor_name: e.actorName,
        role: e.role,
        action: e.action,
        target_type: e.targetType,
        target_id: e.targetId,
        detail: e.detail,
        subject_camera_id: e.subjectCameraId,
        request_id: e.requestId,
        created_at: e.createdAt,
        hash: e.hash,
      })),
      next_cursor: nextCursor,
    };
  }

  @Get('verify')
  @ApiOperation({
    summary:
      'Walk the keyed hash chain: the first row whose link does not hold, the head, and whether a pinned head is still there',
  })
  @ApiOkResponse({ type: AuditVerifyDto })
  verify(@Query() q: AuditVerifyQueryDto): Promise<AuditVerifyDto> {
    if (q.expect_seq !== undefined && q.expect_head === undefined) {
      throw new BadRequestError(
        'expect_seq needs expect_head (the hash pinned with it)',
        'VALIDATION_FAILED',
      );
    }
    return this.audit.verify(q.expect_head ? { hash: q.expect_head, seq: q.expect_seq } : undefined);
  }
}
