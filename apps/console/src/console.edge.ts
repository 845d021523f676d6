import { Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { SECURITY_HEADERS } from './console.server.js';

/**
 * The console's Fastify settings and its open responses: its security headers on every response,
 * request bodies left unread for the proxy to stream, and the responses still open (SSE feeds)
 * ended at shutdown, so closing the console cuts the browser's streams instead of waiting on them.
 */
@Injectable()
export class ConsoleEdge implements OnModuleInit, BeforeApplicationShutdown {
  private readonly fastify: FastifyInstance;
  private readonly open = new Set<ServerResponse>();

  constructor(adapterHost: HttpAdapterHost) {
    this.fastify = adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Every response carries the headers, set before Fastify sees the request: health, metrics and
    // Fastify's own refusals (a malformed URL never reaches a hook) as well as the console's own.
    this.fastify.server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    });
  }

  onModuleInit(): void {
    // Runs after Nest registered its JSON/urlencoded parsers: one that reads nothing replaces them,
    // so the proxy streams the request body to the service byte for byte.
    this.fastify.removeAllContentTypeParsers();
    this.fastify.addContentTypeParser('*', (_req, _payload, done) => done(null));
  }

  /** Tracks a response the console writes itself until it closes. */
  track(res: ServerResponse): void {
    this.open.add(res);
    res.once('close', () => this.open.delete(res));
  }

  beforeApplicationShutdown(): void {
    for (const res of this.open) res.destroy();
    this.open.clear();
  }
}
