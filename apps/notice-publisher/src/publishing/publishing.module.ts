import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { LOGGER, MetricsService, type Logger } from '@backbone/bootstrap';
import { KAFKA_CONFIG, type KafkaConfig } from '@backbone/kafka';
import type { PublisherConfig } from '../config/publisher.config.js';
import { PUBLISHER_CONFIG, SERVICE } from '../publisher.tokens.js';
import { GroupCommitPublisher } from './group-commit.publisher.js';
import { createPublisherKafka } from './publisher-kafka.client.js';

@Injectable()
class PublisherLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly publisher: GroupCommitPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}
  onApplicationBootstrap(): void {
    // At once, in the background (start-up does not wait for Kafka): a crashed predecessor with the
    // same transactional.id is fenced and its open transaction aborted, so consumers reading
    // read_committed are not held up until its transaction times out.
    void this.publisher
      .register()
      .catch((err: unknown) => this.logger.warn({ err }, 'transactional id not registered yet; the first request retries'));
  }
  async onApplicationShutdown(): Promise<void> {
    await this.publisher.close();
  }
}

/** The transactional group-commit producer shared by the API and the refusal audit. */
@Global()
@Module({})
export class PublishingModule {
  /**
   * `kafkaClient` replaces the KafkaModule client for publishing only: tests route it through a
   * TCP proxy they can close to play "broker unreachable" without touching the shared broker.
   */
  static forRoot(kafkaClient?: Kafka): DynamicModule {
    return {
      module: PublishingModule,
      providers: [
        {
          provide: GroupCommitPublisher,
          inject: [KAFKA_CONFIG, PUBLISHER_CONFIG, LOGGER, MetricsService],
          useFactory: (kafkaConfig: KafkaConfig, config: PublisherConfig, logger: Logger, metrics: MetricsService) => {
            // Its own client, tuned for a quick 503 (see publisher-kafka.client.ts), not the shared KAFKA one.
            const kafka = kafkaClient ?? createPublisherKafka(kafkaConfig.connection, SERVICE, config.settings.PUBLISH_TIMEOUT_MS, logger);
            const batchSize = metrics.histogram(
              'publisher_batch_records',
              'Records per committed transaction',
              [],
              [1, 2, 5, 10, 20, 50, 100, 200, 500],
            );
            const commitMs = metrics.histogram(
              'publisher_transaction_ms',
              'Send + commit time of one transaction',
              [],
              [2, 5, 10, 20, 50, 100, 250, 1000],
            );
            return new GroupCommitPublisher(kafka, {
              transactionalId: config.settings.PUBLISH_TRANSACTIONAL_ID,
              lanes: config.settings.PUBLISH_LANES,
              flushIntervalMs: config.settings.PUBLISH_FLUSH_INTERVAL_MS,
              maxBatchRecords: config.settings.PUBLISH_MAX_BATCH_RECORDS,
              publishTimeoutMs: config.settings.PUBLISH_TIMEOUT_MS,
              logger,
              onCommit: (records, ms) => {
                batchSize.observe(records);
                commitMs.observe(ms);
              },
            });
          },
        },
        PublisherLifecycle,
      ],
      exports: [GroupCommitPublisher],
    };
  }
}
