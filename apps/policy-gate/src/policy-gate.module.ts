import { Module, type DynamicModule } from '@nestjs/common';
import { ObservabilityModule, type Logger } from '@backbone/bootstrap';
import { DEFAULT_CONSUMER_SAFETY, KafkaModule, type ConsumerSafetySettings, type KafkaConfig } from '@backbone/kafka';
import { DecisionsController } from './decisions.controller.js';
import { HoldsController } from './holds.controller.js';
import type { GatePolicy } from './gate-policy.port.js';
import type { GateSettings } from './policy-gate.config.js';
import { GATE_CONSUMER_SAFETY, GATE_ON_FATAL, GATE_POLICY, GATE_SETTINGS_TOKEN, PolicyGateRunner } from './policy-gate.runner.js';

export interface PolicyGateDeps {
  logger: Logger;
  kafka: KafkaConfig;
  /** Validated gate settings, DATABASE_URL resolved. */
  settings: GateSettings & { DATABASE_URL: string };
  /** Loaded (and validated) at start-up by main.ts, so a bad policy stops the service early. */
  policy: GatePolicy;
  /**
   * The consumer stopped for good (fenced by a newer instance, or KafkaJS gave up): main.ts
   * shuts the process down so the orchestrator restarts it; default: readiness fails only.
   */
  onFatal?: (err: Error) => void;
  /** CONSUMER_* settings (docs/operator.md); default: their defaults. */
  consumerSafety?: ConsumerSafetySettings;
}

@Module({})
export class PolicyGateModule {
  static forRoot(deps: PolicyGateDeps): DynamicModule {
    return {
      module: PolicyGateModule,
      imports: [ObservabilityModule.forService('policy-gate', deps.logger), KafkaModule.forRoot(deps.kafka, 'policy-gate')],
      controllers: [DecisionsController, HoldsController],
      providers: [
        { provide: GATE_SETTINGS_TOKEN, useValue: deps.settings },
        { provide: GATE_POLICY, useValue: deps.policy },
        { provide: GATE_ON_FATAL, useValue: deps.onFatal ?? ((): void => undefined) },
        { provide: GATE_CONSUMER_SAFETY, useValue: deps.consumerSafety ?? DEFAULT_CONSUMER_SAFETY },
        PolicyGateRunner,
      ],
    };
  }
}
