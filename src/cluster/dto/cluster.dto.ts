import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { NodeRow } from '../nodes.repository';

export class ClusterNodeDto {
  @ApiProperty({ description: 'HELDAR_NODE_ID' }) id!: string;
  @ApiProperty({ description: 'How the other nodes reach this one (HELDAR_NODE_URL)' }) url!: string;
  @ApiProperty({ description: 'Kernel version the node runs' }) version!: string;
  @ApiProperty({ description: 'When the node (this boot of it) started' }) started_at!: string;
  @ApiProperty({ description: 'Its last heartbeat (every 3 s, store clock)' }) last_seen!: string;
  @ApiProperty({ description: 'Heartbeat within 15 s and not stopped' }) live!: boolean;
  @ApiProperty({ description: 'Cameras it records at most (HELDAR_NODE_MAX_CAMERAS)' }) capacity!: number;
  @ApiProperty({ description: 'Cameras it records now' }) cameras_held!: number;
  @ApiProperty({ description: 'Holds the leader lease (runs the cluster singletons)' }) leader!: boolean;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'When it stopped gracefully' })
  stopped_at!: string | null;

  static from(n: NodeRow, leader: boolean): ClusterNodeDto {
    return {
      id: n.id,
      url: n.url,
      version: n.version,
      started_at: n.startedAt,
      last_seen: n.lastSeen,
      live: n.live,
      capacity: n.capacity,
      cameras_held: n.camerasHeld,
      leader,
      stopped_at: n.stoppedAt,
    };
  }
}

export class ClusterDto {
  @ApiProperty({ enum: ['sqlite', 'postgres'], description: 'SQLite is single-node' }) engine!: string;
  @ApiProperty({ description: 'The node that answered' }) node_id!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The leader node, if any holds the lease' })
  leader_id!: string | null;
  @ApiProperty({ description: 'Nodes that answered a heartbeat within 15 s' }) live_nodes!: number;
  @ApiProperty({ type: [ClusterNodeDto] }) nodes!: ClusterNodeDto[];
}
