import { Module, type DynamicModule } from '@nestjs/common';
import { ObservabilityModule, type Logger } from '@backbone/bootstrap';
import { KafkaModule, type KafkaConfig } from '@backbone/kafka';

export interface AgencySubscriberDeps {
  logger: Logger;
  kafka: KafkaConfig;
}

@Module({})
export class AgencySubscriberModule {
  static forRoot(deps: AgencySubscriberDeps): DynamicModule {
    return {
      module: AgencySubscriberModule,
      imports: [ObservabilityModule.forService('agency-subscriber', deps.logger), KafkaModule.forRoot(deps.kafka, 'agency-subscriber')],
    };
  }
}
