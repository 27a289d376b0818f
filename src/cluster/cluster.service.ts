import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { Leadership } from '../common/leadership';
import { Telemetry } from '../common/telemetry';
import { ClusterDto, ClusterNodeDto } from './dto/cluster.dto';
import { NodeIdentity } from './node-identity';
import { NODE_LIVE_MS } from './nodes.logic';
import { NodesRepository } from './nodes.repository';

/** The cluster as `GET /api/v1/cluster` and `/metrics` show it. */
@Injectable()
export class ClusterService implements OnModuleInit {
  constructor(
    private readonly repo: NodesRepository,
    private readonly me: NodeIdentity,
    private readonly leadership: Leadership,
    private readonly telemetry: Telemetry,
  ) {}

  onModuleInit(): void {
    const registers = [this.telemetry.registry];
    const { repo, leadership } = this;
    // prom-client calls collect() with the gauge as `this`.
    new Gauge({
      name: 'heldar_cluster_nodes',
      help: 'Live nodes of the cluster (heartbeat within 15 s; SQLite: 1)',
      registers,
      async collect() {
        this.set(repo.isSqlite ? 1 : await repo.countLive(NODE_LIVE_MS));
      },
    });
    new Gauge({
      name: 'heldar_cluster_leader',
      help: '1 while this node is the leader (runs the cluster singletons; SQLite: always)',
      registers,
      collect() {
        this.set(leadership.isLeader() ? 1 : 0);
      },
    });
  }

  async view(): Promise<ClusterDto> {
    const nodes = await this.repo.list(NODE_LIVE_MS);
    const leaderId = this.repo.isSqlite
      ? this.me.nodeId
      : this.leadership.isLeader()
        ? this.me.nodeId
        : await this.repo.leaderNodeId();
    return {
      engine: this.repo.isSqlite ? 'sqlite' : 'postgres',
      node_id: this.me.nodeId,
      leader_id: leaderId,
      live_nodes: nodes.filter((n) => n.live).length,
      nodes: nodes.map((n) => ClusterNodeDto.from(n, n.id === leaderId && n.live)),
    };
  }
}
