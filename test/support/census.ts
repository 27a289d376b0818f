import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  AUTHENTICATED_KEY,
  CAPABILITY_KEY,
  FLEET_KEY,
  NODE_ONLY_KEY,
  PUBLIC_KEY,
} from '../../src/auth/decorators';

export interface RouteInfo {
  method: string;
  path: string;
  capabilities: string[];
  isPublic: boolean;
  /** Node-to-node only: a request signed by another node (never a user credential). */
  nodeOnly: boolean;
  authenticatedOnly: boolean;
  fleet: boolean;
}

/** Every route the application registered (not a hand-written list), with its declarations. */
export function census(app: NestExpressApplication): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as (new (...a: unknown[]) => object) | null;
      if (!ctrl) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, ctrl) ?? '');
      for (const name of Object.getOwnPropertyNames(ctrl.prototype)) {
        const handler = (ctrl.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler));
        const get = <T>(key: string) =>
          (Reflect.getMetadata(key, handler) as T | undefined) ??
          (Reflect.getMetadata(key, ctrl) as T | undefined);
        routes.push({
          method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number],
          path:
            '/' +
            [base, sub]
              .filter((p) => p && p !== '/')
              .join('/')
              .replace(/^\/+/, ''),
          capabilities: get<string[]>(CAPABILITY_KEY) ?? [],
          isPublic: get<boolean>(PUBLIC_KEY) === true,
          nodeOnly: get<boolean>(NODE_ONLY_KEY) === true,
          authenticatedOnly: get<boolean>(AUTHENTICATED_KEY) === true,
          fleet: get<boolean>(FLEET_KEY) === true,
        });
      }
    }
  }
  return routes;
}
