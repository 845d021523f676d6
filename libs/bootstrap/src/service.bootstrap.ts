import 'reflect-metadata';
import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { MicroserviceOptions } from '@nestjs/microservices';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { assertEveryRouteDeclaresRoles, CREDENTIAL_VERIFIER, RolesGuard, type CredentialVerifier, type RouteEntry } from '@backbone/auth';
import { startTracing } from '@backbone/telemetry';
import { PinoNestLogger } from './logger.js';
import { ObservabilityModule } from './observability.module.js';
import { assertProductionReady, type ProductionRequirements } from './production.guard.js';
import { frameworkErrorProblem, ProblemDetailsFilter } from './problem-details.filter.js';
import { refuseUnstorableInput } from './storable-input.hook.js';

export interface ServiceOptions {
  /** The service's name: logs, metrics and health carry it. */
  name: string;
  /** The app's root module (`<app>.module.ts`); it provides CREDENTIAL_VERIFIER. */
  module: Type<unknown> | DynamicModule;
  logger: Logger;
  port: number;
  host?: string;
  /** Largest accepted request body in bytes; larger ones get 413. */
  bodyLimit?: number;
  /** Nest transports started with the service (the subscriber's Kafka feed consumer). */
  microservices?: MicroserviceOptions[];
  /** Close on SIGTERM/SIGINT; on by default, off for several services in one test process. */
  shutdownHooks?: boolean;
}

export interface RunningService {
  readonly app: NestFastifyApplication;
  /** Base URL, IPv4 loopback spelled out. */
  readonly url: string;
  /** Every HTTP route and what it admits, as checked at start-up. */
  readonly routes: readonly RouteEntry[];
  /** Graceful stop (idempotent): HTTP, then the modules' shutdown hooks in order. */
  close(): Promise<void>;
}

/**
 * The one way every Backbone service starts: JSON logs, health/readiness/metrics, problem+json
 * errors, the roles guard on every route (a route that declares no roles stops start-up), the
 * service's Kafka transports, graceful shutdown on SIGTERM/SIGINT, then HTTP.
 */
export async function startService(opts: ServiceOptions): Promise<RunningService> {
  @Module({ imports: [ObservabilityModule.forService(opts.name, opts.logger), opts.module] })
  class ServiceRootModule {}

  const adapter = new FastifyAdapter({
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // A URL Fastify cannot route (invalid UTF-8 in a segment) is refused before Nest sees it.
    frameworkErrors: (error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      void reply.status(400).header('content-type', 'application/problem+json').send(frameworkErrorProblem(error, req.url));
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(ServiceRootModule, adapter, {
    logger: new PinoNestLogger(opts.logger),
    bufferLogs: false,
    abortOnError: false,
  });
  try {
    let verifier: CredentialVerifier;
    try {
      verifier = app.get<CredentialVerifier>(CREDENTIAL_VERIFIER, { strict: false });
    } catch {
      throw new Error(`${opts.name} provides no CREDENTIAL_VERIFIER: every service authenticates its callers`);
    }
    app.useGlobalGuards(new RolesGuard(app.get(Reflector), verifier));
    app.useGlobalFilters(new ProblemDetailsFilter(opts.logger));
    refuseUnstorableInput(app.getHttpAdapter().getInstance());
    const routes = assertEveryRouteDeclaresRoles(app);
    // Fastify's router is the truth of what is reachable: every route it registers must be one the
    // check above saw (a route added some other way would bypass the declared roles).
    const registered: { method: string; url: string }[] = [];
    (app.getHttpAdapter().getInstance() as FastifyInstance).addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) registered.push({ method: String(method), url: r.url });
    });
    await app.init();
    const known = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const unknown = registered.filter((r) => r.method !== 'HEAD' && !known.has(`${r.method} ${r.url}`));
    if (unknown.length > 0) throw new Error(`routes outside the roles check: ${unknown.map((r) => `${r.method} ${r.url}`).join(', ')}`);
    if (opts.shutdownHooks ?? true) app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    for (const m of opts.microservices ?? []) app.connectMicroservice<MicroserviceOptions>(m);
    if ((opts.microservices ?? []).length > 0) await app.startAllMicroservices();
    await app.listen(opts.port, opts.host ?? '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    opts.logger.info({ url, routes: routes.length, uptimeMs: Math.round(performance.now()) }, 'service listening');
    let closing: Promise<void> | undefined;
    return { app, url, routes, close: () => (closing ??= app.close()) };
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Runs a service's main(), turning a start-up failure (bad config, unreachable dependency) into a clear exit.
 * With BACKBONE_ENV=production the environment is checked first (assertProductionReady): production fails closed.
 */
export function runMain(service: string, main: () => Promise<unknown>, production: ProductionRequirements = {}): void {
  // Tracing first, so every span of the service has a provider; off unless OTEL_EXPORTER_OTLP_* is set.
  const tracing = startTracing(service);
  if (tracing.enabled) {
    // Nest closes the app on these signals; the spans still buffered go out with it.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void tracing.shutdown().catch(() => undefined));
  }
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
