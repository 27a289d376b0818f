import { Module } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { ClusterModule } from '../cluster/cluster.module';
import { ExportsModule } from '../exports/exports.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { SnapshotsController } from './snapshots.controller';
import { SnapshotsRepository } from './snapshots.repository';
import { SnapshotsService } from './snapshots.service';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';

@HeldarModule({
  id: 'snapshots',
  name: 'Snapshot schedules',
  description: 'A JPEG per camera every interval, kept HELDAR_SNAPSHOT_RETENTION_HOURS',
})
@Module({
  imports: [CamerasModule, ClusterModule, ExportsModule, AuditModule, EventsModule],
  controllers: [SnapshotsController],
  providers: [SnapshotsRepository, SnapshotsService],
  exports: [SnapshotsService],
})
export class SnapshotsModule {}
