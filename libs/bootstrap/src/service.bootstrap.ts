import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DynamicModule, Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { PinoNestLogger } from './logger.js';
import { ProblemDetailsFilter } from './problem-details.filter.js';
import { assertProductionReady, type ProductionRequirements } from './production.guard.js';

export interface HttpServiceOptions {
  /** The app's root module (a class or a dynamic module). */
  module: Type<unknown> | DynamicModule;
  logger: Logger;
  port: number;
  host?: string;
  /** Largest accepted request body in bytes; larger ones get 413. */
  bodyLimit?: number;
}

/**
 * Starts an app the way every Backbone service starts: Fastify, JSON logs, problem+json
 * errors, SIGTERM/SIGINT closing modules in order so consumers commit and producers flush.
 */
export async function startHttpService(opts: HttpServiceOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    opts.module,
    new FastifyAdapter({ bodyLimit: opts.bodyLimit ?? 1024 * 1024 }),
    { logger: new PinoNestLogger(opts.logger), bufferLogs: false, abortOnError: false },
  );
  app.useGlobalFilters(new ProblemDetailsFilter(opts.logger));
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(opts.port, opts.host ?? '127.0.0.1');
  opts.logger.info({ url: await app.getUrl() }, 'service listening');
  return app;
}

/**
 * Runs a service's main(), turning a start-up failure (bad config, unreachable dependency) into a clear exit.
 * With BACKBONE_ENV=production the environment is checked first (assertProductionReady): production fails closed.
 */
export function runMain(service: string, main: () => Promise<unknown>, production: ProductionRequirements = {}): void {
  const run = async (): Promise<unknown> => {
    assertProductionReady(process.env, production);
    return main();
  };
  run().catch((err: unknown) => {
    // The logger may not exist yet when config fails, so stderr is the one place that always works.
    process.stderr.write(`${service}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
