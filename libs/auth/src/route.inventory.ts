import type { INestApplication } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { PUBLIC_METADATA, ROLES_METADATA, type Role } from './roles.js';

// Nest's own metadata keys (@nestjs/common/constants), written by @Controller and @Get/@Post/...
const PATH_METADATA = 'path';
const METHOD_METADATA = 'method';

/** One HTTP route as Nest's router registers it, with what it admits. */
export interface RouteEntry {
  readonly method: string;
  readonly path: string;
  readonly controller: string;
  readonly handler: string;
  readonly roles: readonly Role[];
  readonly isPublic: boolean;
}

function joinPath(...parts: string[]): string {
  const joined = parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p.length > 0)
    .join('/');
  return `/${joined}`;
}

function pathsOf(meta: unknown): string[] {
  if (Array.isArray(meta)) return meta.map(String);
  return [typeof meta === 'string' ? meta : '/'];
}

/** Every HTTP route of the application, read from the controllers Nest registered (Kafka handlers have no path). */
export function routeInventory(app: INestApplication): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!type || typeof type !== 'function') continue;
      const base = pathsOf(Reflect.getMetadata(PATH_METADATA, type));
      const classRoles = (Reflect.getMetadata(ROLES_METADATA, type) as Role[] | undefined) ?? [];
      const classPublic = Reflect.getMetadata(PUBLIC_METADATA, type) === true;
      const proto = type.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === 'constructor') continue;
        const handler = proto[name];
        if (typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        const own = Reflect.getMetadata(PATH_METADATA, handler) as unknown;
        if (method === undefined || own === undefined) continue;
        const roles = (Reflect.getMetadata(ROLES_METADATA, handler) as Role[] | undefined) ?? classRoles;
        const isPublic = (Reflect.getMetadata(PUBLIC_METADATA, handler) as boolean | undefined) ?? classPublic;
        for (const b of base) {
          for (const p of pathsOf(own)) {
            out.push({ method: RequestMethod[method], path: joinPath(b, p), controller: type.name, handler: name, roles, isPublic });
          }
        }
      }
    }
  }
  return out;
}

/** Start-up check: a route that declares no roles and is not public stops the service, naming the route. */
export function assertEveryRouteDeclaresRoles(app: INestApplication): RouteEntry[] {
  const routes = routeInventory(app);
  const open = routes.filter((r) => !r.isPublic && r.roles.length === 0);
  if (open.length > 0) {
    const names = open.map((r) => `${r.method} ${r.path} (${r.controller}.${r.handler})`).join(', ');
    throw new Error(`routes without @Roles or @Public: ${names}; every route must declare who it admits`);
  }
  return routes;
}
