import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload, type KafkaContext } from '@nestjs/microservices';
import { LOGGER, type Logger } from '@backbone/bootstrap';
import { alertCodec, deliveryCodec, type Alert, type Delivery } from '@backbone/codec';
import { PermanentRecordError, type ConsumerSafety } from '@backbone/kafka';
import { contextFromHeaders, inSpan, SPAN_ATTR, SPANS, type KafkaHeaders } from '@backbone/telemetry';
import type { AuditRelay } from '../audit/audit.relay.js';
import type { InboxStore } from '../inbox/inbox.store.js';
import { AUDIT_RELAY, CONSUMER_SAFETY, INBOX_STORE } from '../subscriber.tokens.js';

/**
 * The Kafka side of the subscriber, on Nest's Kafka transport. The topic is only known at start-up
 * (prefix + agency), and @EventPattern needs it at class definition, so the controller class is
 * made per topic.
 *
 * Delivery guarantees: the transport awaits this handler inside KafkaJS's eachMessage, and the
 * shared RecordGuard (@backbone/kafka) runs it. A transient failure (PostgreSQL down, a dropped
 * connection) is retried in place with back-off, so the partition keeps its order and nothing is
 * lost; the inbox write is idempotent on (alertId, version), so each version is stored exactly
 * once. A record that can never be processed (it does not decode, or PostgreSQL refuses its data,
 * e.g. a NUL in the headline) is parked on the subscriber's dead-letter topic with its reason and
 * original bytes, also kept in rejected_records, and the feed goes on past it.
 */
export function feedConsumerFor(topic: string): Type<unknown> {
  @Controller()
  class FeedConsumer {
    constructor(
      @Inject(INBOX_STORE) private readonly inbox: InboxStore,
      @Inject(AUDIT_RELAY) private readonly relay: AuditRelay,
      @Inject(CONSUMER_SAFETY) private readonly safety: ConsumerSafety,
      @Inject(LOGGER) private readonly logger: Logger,
    ) {}

    @EventPattern<string>(topic)
    async onDelivery(@Payload() value: unknown, @Ctx() ctx: KafkaContext): Promise<void> {
      const message = ctx.getMessage();
      const bytes = Buffer.isBuffer(value) ? value : null;
      // Nest's parser may hand the key over as a string even with keepBinary; a dead letter keeps bytes.
      const rawKey: unknown = message.key;
      const key = Buffer.isBuffer(rawKey) ? rawKey : typeof rawKey === 'string' ? Buffer.from(rawKey) : null;
      const record = { topic: ctx.getTopic(), partition: ctx.getPartition(), offset: message.offset, key, value: bytes };
      const headers = message.headers as KafkaHeaders | undefined;
      await this.safety.guard.process(record, () => this.store(record.topic, record.partition, record.offset, bytes, headers), {
        heartbeat: ctx.getHeartbeat(),
      });
    }

    private async store(
      topic: string,
      partition: number,
      offset: string,
      bytes: Buffer | null,
      headers: KafkaHeaders | undefined,
    ): Promise<void> {
      const where = { topic, partition, offset };
      if (!bytes) throw new PermanentRecordError('UNDECODABLE', 'record has no value');
      const delivery: Delivery = deliveryCodec.decode(bytes);
      const alert: Alert = alertCodec.decode(delivery.alert);
      if (alert.alertId !== delivery.alertId || alert.version !== delivery.alertVersion) {
        throw new PermanentRecordError(
          'INVALID_RECORD',
          `alert ${alert.alertId} v${alert.version} does not match delivery ${delivery.alertId} v${delivery.alertVersion}`,
        );
      }
      // Child of the gate's span, from the record's traceparent header.
      const attributes = {
        [SPAN_ATTR.alertId]: delivery.alertId,
        [SPAN_ATTR.alertVersion]: delivery.alertVersion,
        [SPAN_ATTR.agency]: delivery.recipient,
      };
      const parent = contextFromHeaders(headers);
      const outcome = await inSpan(SPANS.subscriberStored, attributes, () => this.inbox.storeDelivery(delivery, alert), parent);
      if (outcome.stored) {
        this.logger.info(
          { ...where, alertId: delivery.alertId, version: delivery.alertVersion, seq: outcome.seq, effect: outcome.effect },
          'delivery stored',
        );
        this.relay.kick();
      } else if (outcome.reason === 'WRONG_RECIPIENT') {
        this.logger.error({ ...where, alertId: delivery.alertId, recipient: delivery.recipient }, 'delivery for another agency ignored');
      } else {
        this.logger.debug(
          { ...where, alertId: delivery.alertId, version: delivery.alertVersion, replay: delivery.replay },
          'duplicate delivery ignored',
        );
      }
    }
  }
  return FeedConsumer;
}
