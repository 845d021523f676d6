// The KafkaJS client notice-publisher produces with. The shared libs/kafka client retries 8 times
// with 5 s connection timeouts (good for consumers that must ride out a broker restart); a
// liaison office waiting on a request wants a quick 503 instead, so the publisher tightens the
// timeouts and retries of the shared client. PUBLISH_TIMEOUT_MS still bounds the whole
// transaction whatever the client does.
import type { Kafka } from 'kafkajs';
import type { Logger } from '@backbone/bootstrap';
import { createKafka, type KafkaConnection } from '@backbone/kafka';

export function createPublisherKafka(connection: KafkaConnection, clientId: string, publishTimeoutMs: number, logger?: Logger): Kafka {
  // Each step gets a slice of the deadline: a broker that does not answer a connect or a request
  // within it is treated as down, and at most two quick retries follow.
  const step = Math.max(500, Math.min(5000, Math.floor(publishTimeoutMs / 2)));
  return createKafka(connection, clientId, logger, {
    connectionTimeout: step,
    authenticationTimeout: step,
    requestTimeout: Math.max(step, 5000),
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 2 },
  });
}
