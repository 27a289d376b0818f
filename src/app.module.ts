import { type DynamicModule, Module } from '@nestjs/common';
import { ENTITIES } from './app.entities';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { CamerasModule } from './cameras/cameras.module';
import { ClusterModule } from './cluster/cluster.module';
import { CommonModule } from './common/common.module';
import { ConfigModule } from './config/config.module';
import type { HeldarConfig } from './config/heldar-config';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { MediaModule } from './media/media.module';
import { ProcessModule } from './process/process.module';
import { SettingsModule } from './settings/settings.module';
import { SystemModule } from './system/system.module';
import { RecorderModule } from './recorder/recorder.module';
import { TimelineModule } from './timeline/timeline.module';
import { ExportsModule } from './exports/exports.module';
import { RetentionModule } from './retention/retention.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { SidecarsModule } from './sidecars/sidecars.module';
import { AiModule } from './ai/ai.module';
import { SamplerModule } from './sampler/sampler.module';
import { ZonesModule } from './zones/zones.module';
import { SchedulesModule } from './schedules/schedules.module';
import { SnapshotsModule } from './snapshots/snapshots.module';
import { KeepModule } from './keep/keep.module';
import { LiveviewModule } from './liveview/liveview.module';
import { PlaybackModule } from './playback/playback.module';
import { MetricsModule } from './metrics/metrics.module';
import { TelemetryModule } from './common/telemetry';

type ModuleRef = NonNullable<DynamicModule['imports']>[number];

@Module({})
export class AppModule {
  /** The kernel composed from an already-validated config; tests may add modules. */
  static register(config: HeldarConfig, extra: ModuleRef[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        TelemetryModule,
        DatabaseModule.forRoot(ENTITIES),
        ClusterModule,
        ProcessModule,
        MediaModule,
        AuthModule,
        AuditModule,
        EventsModule,
        SettingsModule,
        CamerasModule,
        SystemModule,
        RecorderModule,
        TimelineModule,
        ExportsModule,
        RetentionModule,
        WebhooksModule,
        SidecarsModule,
        AiModule,
        SamplerModule,
        ZonesModule,
        SchedulesModule,
        SnapshotsModule,
        KeepModule,
        LiveviewModule,
        PlaybackModule,
        MetricsModule,
        ...extra,
      ],
    };
  }
}
