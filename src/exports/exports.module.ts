import { ExportsRepository } from './exports.repository';
import { Module } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { TimelineModule } from '../timeline/timeline.module';
import { ExportsController, NodeClipsController } from './exports.controller';
import { ExportsService } from './exports.service';
import { AuditModule } from '../audit/audit.module';
import { ClusterModule } from '../cluster/cluster.module';

@HeldarModule({ id: 'exports', name: 'Exports', description: 'Clips with SHA-256, media governor' })
@Module({
  imports: [CamerasModule, TimelineModule, AuditModule, ClusterModule],
  controllers: [ExportsController, NodeClipsController],
  providers: [ExportsRepository, ExportsService],
  exports: [ExportsService],
})
export class ExportsModule {}
