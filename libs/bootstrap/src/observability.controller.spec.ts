import { describe, expect, it } from '@jest/globals';
import { HttpException } from '@nestjs/common';
import { HealthRegistry } from './health.registry.js';
import { createLogger } from './logger.js';
import { MetricsService } from './metrics.service.js';
import { ObservabilityController } from './observability.controller.js';

describe('readiness', () => {
  const health = new HealthRegistry();
  health.register({
    name: 'postgres',
    check: async () => Promise.reject(new Error('password authentication failed for user "backbone_audit_app" at db.internal')),
  });
  const controller = new ObservabilityController(health, new MetricsService(), createLogger('readiness-spec', 'silent'));

  const refusal = async (req: object): Promise<Record<string, unknown>> => {
    try {
      await controller.ready(req);
    } catch (err) {
      expect(err).toBeInstanceOf(HttpException);
      return (err as HttpException).getResponse() as Record<string, unknown>;
    }
    throw new Error('readiness passed with a failing check');
  };

  it('hides a failing dependency’s error text from anonymous callers', async () => {
    const body = await refusal({});
    expect(body['checks']).toEqual([{ name: 'postgres', ok: false }]);
    expect(JSON.stringify(body)).not.toContain('db.internal');
  });

  it('shows it to an operator', async () => {
    const body = await refusal({ principal: { subject: 'op', roles: ['operator'], agency: null, details: null } });
    expect(JSON.stringify(body)).toContain('db.internal');
  });
});
