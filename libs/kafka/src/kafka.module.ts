import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { HealthRegistry, LOGGER, type Logger } from '@backbone/bootstrap';
import { createKafka } from './kafka-client.factory.js';
import type { KafkaConfig } from './kafka.config.js';
import { KafkaReadiness } from './kafka.readiness.js';
import { topicNames, type TopicNames } from './topics.js';

export const KAFKA = Symbol('KAFKA');
export const KAFKA_CONFIG = Symbol('KAFKA_CONFIG');
export const TOPIC_NAMES = Symbol('TOPIC_NAMES');

@Injectable()
class KafkaLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly readiness: KafkaReadiness;
  constructor(
    @Inject(KAFKA) kafka: Kafka,
    private readonly health: HealthRegistry,
  ) {
    this.readiness = new KafkaReadiness(kafka);
  }
  onModuleInit(): void {
    this.health.register(this.readiness);
  }
  async onApplicationShutdown(): Promise<void> {
    await this.readiness.close();
  }
}

/** The service's KafkaJS client, its topic names and its readiness check. */
@Global()
@Module({})
export class KafkaModule {
  static forRoot(config: KafkaConfig, clientId: string): DynamicModule {
    return {
      module: KafkaModule,
      providers: [
        { provide: KAFKA_CONFIG, useValue: config },
        { provide: TOPIC_NAMES, useValue: topicNames(config.settings.KAFKA_TOPIC_PREFIX) satisfies TopicNames },
        { provide: KAFKA, inject: [LOGGER], useFactory: (logger: Logger) => createKafka(config.connection, clientId, logger) },
        KafkaLifecycle,
      ],
      exports: [KAFKA, KAFKA_CONFIG, TOPIC_NAMES],
    };
  }
}
