import { Delete, Get, HttpCode, Patch, Post, type Type } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
} from '@nestjs/swagger';
import { RequireCapability } from '../auth/decorators';
import { AsWritten } from '../common/validation';

/**
 * The routes of rows a camera owns (recording schedules, snapshot schedules): listed and created
 * under the camera (`camera:read` / `registry:manage`, 404 for an unknown camera), changed and
 * removed by their own id (`registry:manage`). The capability and the documented answers of each
 * route in one place; the controllers keep their paths, method names (operationIds) and bodies.
 */
export const CameraRowRoute = {
  list: (path: string, summary: string, type: Type<unknown>): MethodDecorator =>
    AsWritten(
      Get(path),
      RequireCapability('camera:read'),
      ApiOperation({ summary }),
      ApiOkResponse({ type: [type] }),
      ApiNotFoundResponse(),
    ),
  create: (path: string, summary: string, type: Type<unknown>, badRequest: string): MethodDecorator =>
    AsWritten(
      Post(path),
      RequireCapability('registry:manage'),
      ApiOperation({ summary }),
      ApiCreatedResponse({ type }),
      ApiBadRequestResponse({ description: badRequest }),
      ApiNotFoundResponse(),
    ),
  update: (path: string, summary: string, type: Type<unknown>): MethodDecorator =>
    AsWritten(
      Patch(path),
      RequireCapability('registry:manage'),
      ApiOperation({ summary }),
      ApiOkResponse({ type }),
      ApiBadRequestResponse(),
      ApiNotFoundResponse(),
    ),
  delete: (path: string, summary: string): MethodDecorator =>
    AsWritten(
      Delete(path),
      HttpCode(204),
      RequireCapability('registry:manage'),
      ApiOperation({ summary }),
      ApiNoContentResponse(),
      ApiNotFoundResponse(),
    ),
};
