import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FleetOnly, RequireCapability } from '../auth/decorators';
import { ClusterService } from './cluster.service';
import { ClusterDto } from './dto/cluster.dto';

/** `GET /api/v1/cluster`: the nodes sharing this store, their health, and the leader. */
@ApiTags('system')
@Controller('api/v1/cluster')
export class ClusterController {
  constructor(private readonly cluster: ClusterService) {}

  @Get()
  @RequireCapability('system:read')
  @FleetOnly() // nodes, URLs and capacities are fleet-wide facts: not for camera-scoped credentials
  @ApiOperation({
    summary:
      'Nodes sharing this database: heartbeat, capacity, cameras held, which one leads (SQLite: one node)',
  })
  @ApiOkResponse({ type: ClusterDto })
  get(): Promise<ClusterDto> {
    return this.cluster.view();
  }
}
