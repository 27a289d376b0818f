import { Module } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { EventsModule } from '../events/events.module';
import { CameraOwnership, MonotonicClock } from './camera-leases.ownership';
import { CameraLeasesRepository } from './camera-leases.repository';
import { LeaseService } from './lease.service';

/** Several kernels on one PostgreSQL (issue 18): camera leases (which node records which camera). */
@Module({
  imports: [CamerasModule, EventsModule],
  providers: [
    MonotonicClock,
    CameraLeasesRepository,
    LeaseService,
    { provide: CameraOwnership, useExisting: LeaseService },
  ],
  exports: [CameraOwnership, LeaseService],
})
export class ClusterModule {}
