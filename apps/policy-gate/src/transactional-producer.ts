import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import type { OutboundMessage } from './batch.assembler.js';

// The gate's two transactional producers (the consumer loop's and the hold releaser's) are set
// up and started the same way; this is that one way.

/** A transactional, idempotent producer with one request in flight; not connected yet. */
export function createTransactionalProducer(kafka: Kafka, transactionalId: string): Producer {
  return kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 60_000,
    allowAutoTopicCreation: false,
    retry: TRANSACTION_RETRY,
  });
}

/**
 * Right after a commit the coordinator is still writing the commit markers, and the next
 * transaction's first AddPartitionsToTxn is answered CONCURRENT_TRANSACTIONS. The shared client's
 * back-off (200 ms ± 20 %, doubling) then idled the gate for 160–240 ms after nearly every commit
 * (one transaction per partition batch, so at tens of alerts a second that is most of its time).
 * Markers take a few milliseconds: retry after about 20 ms, as Kafka's Java producer does here.
 */
export const TRANSACTION_RETRY = { initialRetryTime: 20, maxRetryTime: 1_000, retries: 10 } as const;

/**
 * Connects the producer and begins and aborts an empty transaction. KafkaJS's connect() does
 * not register the transactional id (it sends InitProducerId only at the first transaction()),
 * so without this the broker would abort whatever a previous incarnation with the same id left
 * open, and fence it, only at the first real transaction.
 */
export async function startTransactionalProducer(producer: Producer): Promise<void> {
  await producer.connect();
  const txn = await producer.transaction();
  await txn.abort();
}

/**
 * Groups outbound messages by topic (order kept within each topic) for one sendBatch.
 * `headersOf` adds Kafka headers by record key (the alert's trace context).
 */
export function topicMessagesOf(
  messages: Iterable<readonly [string, OutboundMessage]> | ReadonlyMap<string, readonly OutboundMessage[]>,
  headersOf?: (key: OutboundMessage['key']) => Record<string, string> | undefined,
): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  const add = (topic: string, m: OutboundMessage): void => {
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    const headers = headersOf?.(m.key);
    list.push(headers ? { key: m.key, value: m.value, headers } : { key: m.key, value: m.value });
  };
  if (messages instanceof Map) {
    for (const [topic, list] of messages as ReadonlyMap<string, readonly OutboundMessage[]>) for (const m of list) add(topic, m);
  } else {
    for (const [topic, m] of messages as Iterable<readonly [string, OutboundMessage]>) add(topic, m);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
}
