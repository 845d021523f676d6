import { Module, type DynamicModule } from '@nestjs/common';
import { ObservabilityModule, type Logger } from '@backbone/bootstrap';
import { KafkaModule, type KafkaConfig } from '@backbone/kafka';

export interface PolicyGateDeps {
  logger: Logger;
  kafka: KafkaConfig;
}

@Module({})
export class PolicyGateModule {
  static forRoot(deps: PolicyGateDeps): DynamicModule {
    return {
      module: PolicyGateModule,
      imports: [ObservabilityModule.forService('policy-gate', deps.logger), KafkaModule.forRoot(deps.kafka, 'policy-gate')],
    };
  }
}
