import type { Kafka } from 'kafkajs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startHttpService, type Logger } from '@backbone/bootstrap';
import type { KafkaConfig } from '@backbone/kafka';
import type { PublisherConfig } from './config/publisher.config.js';
import { NoticePublisherModule } from './notice-publisher.module.js';
import { openPublisherDatabase, publisherDatabaseUrl } from './persistence/publisher.database.js';
import { loadAgencyDirectory } from './registry/agency-directory.js';

export interface StartPublisherOptions {
  logger: Logger;
  kafka: KafkaConfig;
  config: PublisherConfig;
  host?: string;
  /** Tests only: produce through this client instead of one built from `kafka`. */
  kafkaClient?: Kafka;
}

/** Starts notice-publisher: registry, database (migrated), then the HTTP API. Used by main and the tests. */
export async function startPublisher(opts: StartPublisherOptions): Promise<NestFastifyApplication> {
  const s = opts.config.settings;
  const agencies = loadAgencyDirectory(s.POLICIES_DIR);
  const dataSource = await openPublisherDatabase(await publisherDatabaseUrl(s.DATABASE_URL));
  try {
    return await startHttpService({
      module: NoticePublisherModule.forRoot({ logger: opts.logger, kafka: opts.kafka, config: opts.config, agencies, dataSource, ...(opts.kafkaClient ? { kafkaClient: opts.kafkaClient } : {}) }),
      logger: opts.logger,
      port: s.PORT,
      host: opts.host ?? '127.0.0.1',
      bodyLimit: s.BODY_LIMIT_BYTES,
    });
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    throw err;
  }
}
