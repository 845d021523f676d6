import { Module, type DynamicModule } from '@nestjs/common';
import { ObservabilityModule, type Logger } from '@backbone/bootstrap';
import { KafkaModule, type KafkaConfig } from '@backbone/kafka';

export interface NoticePublisherDeps {
  logger: Logger;
  kafka: KafkaConfig;
}

@Module({})
export class NoticePublisherModule {
  static forRoot(deps: NoticePublisherDeps): DynamicModule {
    return {
      module: NoticePublisherModule,
      imports: [ObservabilityModule.forService('notice-publisher', deps.logger), KafkaModule.forRoot(deps.kafka, 'notice-publisher')],
    };
  }
}
