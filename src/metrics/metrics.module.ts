import { Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { AiModule } from '../ai/ai.module';
import { CamerasModule } from '../cameras/cameras.module';
import { LiveviewModule } from '../liveview/liveview.module';
import { SidecarsModule } from '../sidecars/sidecars.module';
import { RecorderModule } from '../recorder/recorder.module';
import { SamplerModule } from '../sampler/sampler.module';
import { HeldarModule } from '../common/heldar-module.decorator';
import { TimelineModule } from '../timeline/timeline.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { EventsModule } from '../events/events.module';

import { ClusterModule } from '../cluster/cluster.module';
@HeldarModule({ id: 'metrics', name: 'Metrics', description: 'Prometheus /metrics from in-memory state' })
@Module({
  imports: [
    // Process metrics are collected into the kernel's own registry (MetricsService), not the global one.
    PrometheusModule.register({
      controller: MetricsController,
      path: '/metrics',
      defaultMetrics: { enabled: false },
    }),
    CamerasModule,
    ClusterModule,
    RecorderModule,
    SamplerModule,
    TimelineModule,
    AiModule,
    SidecarsModule,
    LiveviewModule,
    EventsModule,
  ],
  providers: [MetricsService],
})
export class MetricsModule {}
