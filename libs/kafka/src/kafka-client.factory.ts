import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConnection } from './kafka.config.js';

/** Per-client overrides of the defaults below (e.g. a request path that wants a quick failure). */
export type KafkaClientOptions = Partial<Pick<KafkaConfig, 'connectionTimeout' | 'authenticationTimeout' | 'requestTimeout' | 'retry'>>;

/** A KafkaJS client whose own logs go to the service's JSON logger at the matching level. */
export function createKafka(connection: KafkaConnection, clientId: string, logger?: Logger, options: KafkaClientOptions = {}): Kafka {
  return new Kafka({
    clientId,
    brokers: connection.brokers,
    ...(connection.ssl !== undefined ? { ssl: connection.ssl } : {}),
    ...(connection.sasl ? { sasl: connection.sasl } : {}),
    ...(connection.socketFactory ? { socketFactory: connection.socketFactory } : {}),
    connectionTimeout: 5000,
    authenticationTimeout: 5000,
    retry: { initialRetryTime: 200, retries: 8 },
    ...options,
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      if (!logger) return;
      const { message, ...extra } = entry.log;
      const fields = { kafka: entry.namespace, ...extra };
      if (entry.level === logLevel.ERROR) logger.error(fields, message);
      else if (entry.level === logLevel.WARN) logger.warn(fields, message);
      else logger.debug(fields, message);
    },
  });
}
