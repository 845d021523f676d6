import { describe, expect, it } from '@jest/globals';
import { RequestMethod } from '@nestjs/common';
import { AlertsController } from '../alerts/alerts.controller.js';
import { openApiDocument } from './openapi.document.js';

// Keeps the hand-written document true to the controller: every route it serves is described.
describe('openApiDocument', () => {
  it('describes every route of AlertsController', () => {
    const paths = openApiDocument()['paths'] as Record<string, Record<string, unknown>>;
    const base = Reflect.getMetadata('path', AlertsController) as string;
    const proto = AlertsController.prototype as unknown as Record<string, unknown>;
    const routes = Object.getOwnPropertyNames(proto)
      .filter((name) => name !== 'constructor' && Reflect.getMetadata('path', proto[name] as object) !== undefined)
      .map((name) => {
        const sub = Reflect.getMetadata('path', proto[name] as object) as string;
        const method = RequestMethod[Reflect.getMetadata('method', proto[name] as object) as number]!.toLowerCase();
        const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/:([a-z]+)/g, '{$1}');
        return `${method} ${path}`;
      });
    expect(routes.length).toBe(5);
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      expect(paths[path]?.[method]).toBeDefined();
    }
  });

  it('POST /alerts lists only the refusals a create can get', () => {
    const paths = openApiDocument()['paths'] as Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    const create = paths['/alerts']!['post']!.responses;
    expect(create['403']).toBeUndefined();
    expect(create['409']!.description).toMatch(/Idempotency-Key/);
    expect(create['409']!.description).not.toMatch(/concurrent|cancelled/);
    expect(paths['/alerts/{id}/updates']!['post']!.responses['403']).toBeDefined();
  });
});
