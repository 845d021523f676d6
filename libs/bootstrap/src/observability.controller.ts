import { Controller, Get, Header, HttpException, HttpStatus, Inject, Req } from '@nestjs/common';
import type { Logger } from 'pino';
import { Public, type AuthenticatedRequest } from '@backbone/auth';
import { HealthRegistry, type ReadinessReport } from './health.registry.js';
import { MetricsService } from './metrics.service.js';
import { LOGGER } from './observability.tokens.js';

/** Health and metrics: public, so probes and scrapers need no credential; errors are shown to operators only. */
@Controller()
@Public()
export class ObservabilityController {
  constructor(
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('health/live')
  live(): { status: 'live' } {
    return { status: 'live' };
  }

  @Get('health/ready')
  async ready(@Req() req: AuthenticatedRequest): Promise<ReadinessReport> {
    const full = await this.health.readiness();
    // A dependency's error text (host names, database and role names) is for operators, not the network.
    const report = req.principal?.roles.includes('operator')
      ? full
      : { ...full, checks: full.checks.map(({ name, ok }) => ({ name, ok })) };
    if (report.status !== 'ready') {
      // The operator finds the reasons in the log, whoever asked.
      this.logger.warn({ checks: full.checks.filter((c) => !c.ok) }, 'not ready');
      throw new HttpException(report, HttpStatus.SERVICE_UNAVAILABLE);
    }
    return report;
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
