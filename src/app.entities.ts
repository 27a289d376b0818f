import { ClusterLeaderEntity } from './cluster/entities/cluster-leader.entity';
import { ClusterMetaEntity } from './cluster/entities/cluster-meta.entity';
import { NodeEntity } from './cluster/entities/node.entity';
import { KeepCursorEntity } from './keep/entities/keep-cursor.entity';
import { KeepWindowEntity } from './keep/entities/keep-window.entity';
import { RecordingScheduleEntity } from './schedules/entities/recording-schedule.entity';
import { SnapshotEntity } from './snapshots/entities/snapshot.entity';
import { SnapshotScheduleEntity } from './snapshots/entities/snapshot-schedule.entity';
import { AuditCheckpointEntity } from './audit/entities/audit-checkpoint.entity';
import { AuditLogEntity } from './audit/entities/audit-log.entity';
import { WebhookAttemptEntity } from './webhooks/entities/webhook-attempt.entity';
import { WebhookDeliveryEntity } from './webhooks/entities/webhook-delivery.entity';
import { WebhookEntity } from './webhooks/entities/webhook.entity';
import { SidecarEntity } from './sidecars/entities/sidecar.entity';
import { AiTaskEntity } from './ai/entities/ai-task.entity';
import { AiWorkerEntity } from './ai/entities/ai-worker.entity';
import { ConsumerFanoutEntity } from './ai/entities/consumer-fanout.entity';
import { DetectionEntity } from './ai/entities/detection.entity';
import { OutboxEntity } from './ai/entities/outbox.entity';
import { ZoneEntity } from './zones/entities/zone.entity';
import { ZoneEventEntity } from './zones/entities/zone-event.entity';
import { ZoneOccupancyEntity } from './zones/entities/zone-occupancy.entity';
import { ApiKeyEntity } from './auth/entities/api-key.entity';
import { SessionEntity } from './auth/entities/session.entity';
import { UserEntity } from './auth/entities/user.entity';
import { ClipEntity } from './exports/entities/clip.entity';
import { CameraEntity } from './cameras/entities/camera.entity';
import { SiteEntity } from './cameras/entities/site.entity';
import { EventEntity } from './events/entities/event.entity';
import { CameraStatusEntity } from './recorder/entities/camera-status.entity';
import { RecorderRunEntity } from './recorder/entities/recorder-run.entity';
import { RecordingGapEntity } from './timeline/entities/recording-gap.entity';
import { SegmentEntity } from './timeline/entities/segment.entity';
import { CoverageEntity } from './timeline/entities/coverage.entity';
import { IndexedDayEntity } from './timeline/entities/indexed-day.entity';
import { SegmentUsageEntity } from './timeline/entities/segment-usage.entity';
import { ModuleRecordEntity } from './settings/entities/module-record.entity';
import { SettingEntity } from './settings/entities/setting.entity';
import { CameraLeaseEntity } from './cluster/entities/camera-lease.entity';

/** Every entity of the kernel; each belongs to (and is only queried by) its module. */
export const ENTITIES = [
  SiteEntity,
  CameraEntity,
  EventEntity,
  AuditLogEntity,
  AuditCheckpointEntity,
  WebhookEntity,
  WebhookDeliveryEntity,
  WebhookAttemptEntity,
  SidecarEntity,
  AiTaskEntity,
  AiWorkerEntity,
  OutboxEntity,
  DetectionEntity,
  ConsumerFanoutEntity,
  ZoneEntity,
  ZoneEventEntity,
  ZoneOccupancyEntity,
  SettingEntity,
  ModuleRecordEntity,
  CameraStatusEntity,
  RecordingScheduleEntity,
  SnapshotScheduleEntity,
  SnapshotEntity,
  KeepWindowEntity,
  KeepCursorEntity,
  RecorderRunEntity,
  SegmentEntity,
  CoverageEntity,
  IndexedDayEntity,
  SegmentUsageEntity,
  RecordingGapEntity,
  UserEntity,
  SessionEntity,
  ApiKeyEntity,
  ClipEntity,
  NodeEntity,
  ClusterLeaderEntity,
  CameraLeaseEntity,
  ClusterMetaEntity,
];
