import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireCapability } from '../auth/decorators';
import { Principal } from '../auth/principal';
import { type AiTaskDto, AiTasksService, toTaskDto, type WorkerTaskDto } from './ai-tasks.service';
import { DetectionsService } from './detections.service';
import { type IngestResult, IngestService } from './ingest.service';
import {
  CreateAiTaskDto,
  UpdateAiTaskDto,
  AiTaskResponse,
  WorkerTaskResponse,
  DiscoveryQuery,
  IngestSchema,
  IngestResponse,
  DetectionQuery,
  DetectionResponse,
} from './dto/ai.dto';

@ApiTags('ai')
@Controller('api/v1')
export class AiController {
  constructor(
    private readonly tasks: AiTasksService,
    private readonly ingestService: IngestService,
    private readonly detectionsService: DetectionsService,
  ) {}

  @Get('cameras/:id/ai-tasks')
  @RequireCapability('ai:tasks')
  @ApiOkResponse({ type: [AiTaskResponse] })
  async list(@Param('id') id: string): Promise<AiTaskDto[]> {
    return (await this.tasks.listForCamera(id)).map(toTaskDto);
  }

  @Post('cameras/:id/ai-tasks')
  @RequireCapability('registry:manage')
  @ApiOperation({
    summary: 'Create a task (201), or get the existing one for camera + task_type + stream_profile (200)',
  })
  @ApiCreatedResponse({ type: AiTaskResponse })
  async create(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: CreateAiTaskDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AiTaskDto> {
    const { task, created } = await this.tasks.create(p, id, dto);
    res.status(created ? 201 : 200);
    return toTaskDto(task);
  }

  @Patch('ai-tasks/:id')
  @RequireCapability('registry:manage')
  @ApiOkResponse({ type: AiTaskResponse })
  async update(
    @Principal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateAiTaskDto,
  ): Promise<AiTaskDto> {
    return toTaskDto(await this.tasks.update(p, id, dto));
  }

  @Delete('ai-tasks/:id')
  @HttpCode(204)
  @RequireCapability('registry:manage')
  async remove(@Principal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.tasks.delete(p, id);
  }

  @Get('ai/tasks')
  @RequireCapability('ai:tasks')
  @ApiOperation({
    summary: 'Worker discovery: enabled tasks on enabled cameras (this worker’s share with worker_id)',
  })
  @ApiOkResponse({ type: [WorkerTaskResponse] })
  discover(@Principal() p: Principal, @Query() q: DiscoveryQuery): Promise<WorkerTaskDto[]> {
    return this.tasks.discover(p, q.worker_id);
  }

  @Post('ai/events')
  @HttpCode(200)
  @RequireCapability('ai:ingest')
  @ApiOperation({
    summary:
      'Ingest a batch of detections (idempotent per camera + frame_id), optionally with a worker event',
  })
  @ApiBody({ type: IngestSchema })
  @ApiOkResponse({ type: IngestResponse })
  ingest(@Principal() p: Principal, @Body() body: unknown): Promise<IngestResult> {
    return this.ingestService.ingest(p, body);
  }

  @Get('cameras/:id/detections')
  @RequireCapability('events:read')
  @ApiOkResponse({ type: [DetectionResponse] })
  detections(@Param('id') id: string, @Query() q: DetectionQuery): Promise<DetectionResponse[]> {
    return this.detectionsService.list(id, q);
  }
}
