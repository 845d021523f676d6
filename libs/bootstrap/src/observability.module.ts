import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { HealthRegistry } from './health.registry.js';
import { MetricsService } from './metrics.service.js';
import { ObservabilityController } from './observability.controller.js';

import { LOGGER, SERVICE_NAME } from './observability.tokens.js';

export { LOGGER, SERVICE_NAME };

/** Health, readiness, metrics and the JSON logger, shared by every app. */
@Global()
@Module({})
export class ObservabilityModule {
  static forService(service: string, logger: Logger): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [ObservabilityController],
      providers: [HealthRegistry, MetricsService, { provide: LOGGER, useValue: logger }, { provide: SERVICE_NAME, useValue: service }],
      exports: [HealthRegistry, MetricsService, LOGGER, SERVICE_NAME],
    };
  }
}
