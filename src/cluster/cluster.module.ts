import { Module, type OnModuleInit } from '@nestjs/common';
import { CamerasModule } from '../cameras/cameras.module';
import { HeldarConfig } from '../config/heldar-config';
import { EventsModule } from '../events/events.module';
import { CameraOwnership, LIVE_NODE_COUNT, MonotonicClock } from './camera-leases.ownership';
import { CameraLeasesRepository } from './camera-leases.repository';
import { ClusterController } from './cluster.controller';
import { ClusterService } from './cluster.service';
import { LeaderService } from './leader.service';
import { LeaseService } from './lease.service';
import { NodeHeartbeatService } from './node-heartbeat.service';
import { NodeClient } from './node-client';
import { NodeIdentity } from './node-identity';
import { NODE_LIVE_MS } from './nodes.logic';
import { NodesRepository } from './nodes.repository';
import { SecretCheck } from './secret-check';

/**
 * Several kernels on one PostgreSQL (issue 18): each node's heartbeat row, the leader lease that
 * decides `Leadership` (cluster singletons), camera leases (which node records which camera) and
 * `GET /api/v1/cluster`. On SQLite: one node, always the leader, owning every camera; the node row
 * still refuses a second kernel on the same database file.
 */
@Module({
  imports: [CamerasModule, EventsModule],
  controllers: [ClusterController],
  providers: [
    {
      provide: NodeIdentity,
      inject: [HeldarConfig],
      useFactory: (cfg: HeldarConfig) => NodeIdentity.of(cfg),
    },
    NodesRepository,
    SecretCheck,
    NodeHeartbeatService,
    NodeClient,
    LeaderService,
    ClusterService,
    MonotonicClock,
    CameraLeasesRepository,
    // Fair shares are counted over the live nodes (heartbeats), not only the nodes holding leases.
    {
      provide: LIVE_NODE_COUNT,
      inject: [NodesRepository],
      useFactory: (nodes: NodesRepository) => () => nodes.countLive(NODE_LIVE_MS),
    },
    LeaseService,
    { provide: CameraOwnership, useExisting: LeaseService },
  ],
  exports: [NodeIdentity, NodeHeartbeatService, LeaderService, CameraOwnership, LeaseService, NodeClient],
})
export class ClusterModule implements OnModuleInit {
  constructor(
    private readonly heartbeat: NodeHeartbeatService,
    private readonly leases: LeaseService,
  ) {}

  /** The heartbeat reports how many cameras this node holds. */
  onModuleInit(): void {
    this.heartbeat.provideCamerasHeld(() => this.leases.heldCameras().length);
  }
}
