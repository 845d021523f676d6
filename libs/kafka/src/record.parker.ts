import type { Kafka, Producer } from 'kafkajs';
import { deadLetterCodec, type DeadLetter, type DeadLetterReason } from '@backbone/codec';
import { deadLetterFor, type FailedRecord } from './dead-letter.builder.js';

/** Where parked records go; one implementation writes to Kafka, tests may collect them in memory. */
export interface RecordParker {
  park(record: FailedRecord, reason: DeadLetterReason, detail: string): Promise<DeadLetter>;
}

/** Header naming the reason, so an operator can filter parked records without decoding them. */
export const PARKED_REASON_HEADER = 'backbone-parked-reason';

/**
 * Parks records on a service's dead-letter topic: a DeadLetter with the original key and value
 * bytes, the source topic/partition/offset and the named reason. Idempotent producer, acks=all:
 * a parked record is as durable as the one it replaces, and the consumer commits past the
 * original only after this resolves. Transactional consumers (the gate) put the same DeadLetter
 * in their own transaction instead (see deadLetterFor).
 */
export class KafkaRecordParker implements RecordParker {
  private producer: Producer | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly service: string,
    readonly topic: string,
  ) {}

  async park(record: FailedRecord, reason: DeadLetterReason, detail: string): Promise<DeadLetter> {
    const producer = await this.connected();
    const letter = deadLetterFor(this.service, record, reason, detail);
    await producer.send({
      topic: this.topic,
      acks: -1,
      messages: [
        {
          // Same key as the original: parked records of one alert stay in order on one partition.
          key: record.key ?? `${record.topic}/${record.partition}`,
          value: deadLetterCodec.encode(letter),
          headers: { [PARKED_REASON_HEADER]: reason },
        },
      ],
    });
    return letter;
  }

  private async connected(): Promise<Producer> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      this.connecting = this.producer.connect();
    }
    try {
      await this.connecting;
      return this.producer;
    } catch (err) {
      // A fresh producer next time (the broker may have been down).
      const stale = this.producer;
      this.producer = undefined;
      await stale.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }
}
