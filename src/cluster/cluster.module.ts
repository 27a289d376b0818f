import { Module } from '@nestjs/common';
import { HeldarConfig } from '../config/heldar-config';
import { ClusterController } from './cluster.controller';
import { ClusterService } from './cluster.service';
import { LeaderService } from './leader.service';
import { NodeHeartbeatService } from './node-heartbeat.service';
import { NodeIdentity } from './node-identity';
import { NodesRepository } from './nodes.repository';

/**
 * Several kernels on one PostgreSQL (issue 18): each node's heartbeat row, the leader lease that
 * decides `Leadership` (cluster singletons), and `GET /api/v1/cluster`. On SQLite: one node, always
 * the leader; the node row still refuses a second kernel on the same database file.
 */
@Module({
  controllers: [ClusterController],
  providers: [
    {
      provide: NodeIdentity,
      inject: [HeldarConfig],
      useFactory: (cfg: HeldarConfig) => NodeIdentity.of(cfg),
    },
    NodesRepository,
    NodeHeartbeatService,
    LeaderService,
    ClusterService,
  ],
  exports: [NodeIdentity, NodeHeartbeatService, LeaderService],
})
export class ClusterModule {}
