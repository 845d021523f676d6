import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload, type KafkaContext } from '@nestjs/microservices';
import { LOGGER, type Logger } from '@backbone/bootstrap';
import { alertCodec, deliveryCodec, isCodecError, type Alert, type Delivery } from '@backbone/codec';
import { contextFromHeaders, inSpan, SPAN_ATTR, SPANS, type KafkaHeaders } from '@backbone/telemetry';
import type { AuditRelay } from '../audit/audit.relay.js';
import type { InboxStore } from '../inbox/inbox.store.js';
import { AUDIT_RELAY, INBOX_STORE } from '../subscriber.tokens.js';

/**
 * The Kafka side of the subscriber, on Nest's Kafka transport. The topic is only known at start-up
 * (prefix + agency), and @EventPattern needs it at class definition, so the controller class is
 * made per topic.
 *
 * Delivery guarantees: the transport awaits this handler inside KafkaJS's eachMessage; a throw
 * (e.g. PostgreSQL down) leaves the offset uncommitted and KafkaJS retries, so every record is
 * processed at least once; the inbox write is idempotent on (alertId, version), so each version is
 * stored exactly once. Records that can never be decoded are set aside in rejected_records and
 * skipped, so one bad record cannot stall the agency's feed.
 */
export function feedConsumerFor(topic: string): Type<unknown> {
  @Controller()
  class FeedConsumer {
    constructor(
      @Inject(INBOX_STORE) private readonly inbox: InboxStore,
      @Inject(AUDIT_RELAY) private readonly relay: AuditRelay,
      @Inject(LOGGER) private readonly logger: Logger,
    ) {}

    @EventPattern<string>(topic)
    async onDelivery(@Payload() value: unknown, @Ctx() ctx: KafkaContext): Promise<void> {
      const message = ctx.getMessage();
      const where = { topic: ctx.getTopic(), partition: ctx.getPartition(), offset: message.offset };
      const bytes = Buffer.isBuffer(value) ? value : null;
      let delivery: Delivery;
      let alert: Alert;
      try {
        if (!bytes) throw new Error('record has no value');
        delivery = deliveryCodec.decode(bytes);
        alert = alertCodec.decode(delivery.alert);
        if (alert.alertId !== delivery.alertId || alert.version !== delivery.alertVersion) {
          throw new Error(`alert ${alert.alertId} v${alert.version} does not match delivery ${delivery.alertId} v${delivery.alertVersion}`);
        }
      } catch (err) {
        const reason = isCodecError(err) ? err.message : `INVALID_RECORD: ${(err as Error).message}`;
        this.logger.error({ ...where, reason }, 'feed record set aside: cannot be decoded');
        await this.inbox.reject(where.topic, where.partition, where.offset, bytes, reason);
        return;
      }
      // Child of the gate's span, from the record's traceparent header.
      const attributes = { [SPAN_ATTR.alertId]: delivery.alertId, [SPAN_ATTR.alertVersion]: delivery.alertVersion, [SPAN_ATTR.agency]: delivery.recipient };
      const parent = contextFromHeaders(message.headers as KafkaHeaders | undefined);
      const outcome = await inSpan(SPANS.subscriberStored, attributes, () => this.inbox.storeDelivery(delivery, alert), parent);
      if (outcome.stored) {
        this.logger.info({ ...where, alertId: delivery.alertId, version: delivery.alertVersion, seq: outcome.seq, effect: outcome.effect }, 'delivery stored');
        this.relay.kick();
      } else if (outcome.reason === 'WRONG_RECIPIENT') {
        this.logger.error({ ...where, alertId: delivery.alertId, recipient: delivery.recipient }, 'delivery for another agency ignored');
      } else {
        this.logger.debug({ ...where, alertId: delivery.alertId, version: delivery.alertVersion, replay: delivery.replay }, 'duplicate delivery ignored');
      }
    }
  }
  return FeedConsumer;
}
