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

/** Decorators in the order they are written above a method (applied bottom-up, as TypeScript does). */
function stack(...decorators: MethodDecorator[]): MethodDecorator {
  return (target, key, descriptor) => {
    for (const d of [...decorators].reverse()) d(target, key, descriptor);
  };
}

/**
 * The routes of rows a camera owns (recording schedules, snapshot schedules): listed and created
 * under the camera (`camera:read` / `registry:manage`, 404 for an unknown camera), changed and
 * removed by their own id (`registry:manage`). The capability and the documented answers of each
 * route in one place; the controllers keep their paths, method names (operationIds) and bodies.
 */
export const CameraRowRoute = {
  list: (path: string, summary: string, type: Type<unknown>): MethodDecorator =>
    stack(
      Get(path),
      RequireCapability('camera:read'),
      ApiOperation({ summary }),
      ApiOkResponse({ type: [type] }),
      ApiNotFoundResponse(),
    ),
  create: (path: string, summary: string, type: Type<unknown>, badRequest: string): MethodDecorator =>
    stack(
      Post(path),
      RequireCapability('registry:manage'),
      ApiOperation({ summary }),
      ApiCreatedResponse({ type }),
      ApiBadRequestResponse({ description: badRequest }),
      ApiNotFoundResponse(),
    ),
  update: (path: string, summary: string, type: Type<unknown>): MethodDecorator =>
    stack(
      Patch(path),
      RequireCapability('registry:manage'),
      ApiOperation({ summary }),
      ApiOkResponse({ type }),
      ApiBadRequestResponse(),
      ApiNotFoundResponse(),
    ),
  delete: (path: string, summary: string): MethodDecorator =>
    stack(
      Delete(path),
      HttpCode(204),
      RequireCapability('registry:manage'),
      ApiOperation({ summary }),
      ApiNoContentResponse(),
      ApiNotFoundResponse(),
    ),
};
