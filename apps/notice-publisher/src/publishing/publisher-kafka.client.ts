// The KafkaJS client notice-publisher produces with. The shared libs/kafka client retries 8 times
// with 5 s connection timeouts (good for consumers that must ride out a broker restart); a
// liaison office waiting on a request wants a quick 503 instead, so the publisher has its own,
// tighter client. PUBLISH_TIMEOUT_MS still bounds the whole transaction whatever the client does.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@backbone/bootstrap';
import type { KafkaConnection } from '@backbone/kafka';

export function createPublisherKafka(connection: KafkaConnection, clientId: string, publishTimeoutMs: number, logger?: Logger): Kafka {
  // Each step gets a slice of the deadline: a broker that does not answer a connect or a request
  // within it is treated as down, and at most two quick retries follow.
  const step = Math.max(500, Math.min(5000, Math.floor(publishTimeoutMs / 2)));
  return new Kafka({
    clientId,
    brokers: connection.brokers,
    ...(connection.ssl !== undefined ? { ssl: connection.ssl } : {}),
    ...(connection.sasl ? { sasl: connection.sasl } : {}),
    connectionTimeout: step,
    authenticationTimeout: step,
    requestTimeout: Math.max(step, 5000),
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 2 },
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
