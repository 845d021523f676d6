import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kafka, Producer } from 'kafkajs';
import type { Counter } from 'prom-client';
import type { AuthenticatedRequest, GuardRefusal } from '@backbone/auth';
import { storableText } from '@backbone/codec';
import { LOGGER, MetricsService, type Logger } from '@backbone/bootstrap';
import { auditEvent, encodeAuditEvent } from './audit-event.builder.js';
import { KAFKA, KAFKA_CONFIG, TOPIC_NAMES } from './kafka.module.js';
import type { KafkaConfig } from './kafka.config.js';
import type { TopicNames } from './topics.js';
import { AnonymousRefusalLimiter } from './anonymous-refusal.limiter.js';
import { clientBucketOf, RefusalAggregator, type AggregatedRefusal } from './refusal.aggregator.js';
import { DEFAULT_REFUSAL_AUDIT, type RefusalAuditSettings } from './refusal-audit.config.js';

/** The audit event type of every refusal (the emitter rules admit it from every service). */
export const REFUSAL_EVENT_TYPE = 'REJECTED' as const;
/** `details.refusal` of a refusal event: one identified caller, or a window of anonymous ones. */
export const REFUSAL_KINDS = { identified: 'identified', anonymous: 'anonymous-aggregate' } as const;
/** The reason an anonymous refusal past the rate limit is answered (429) and counted with. */
export const RATE_LIMITED_REASON = 'anonymous-rate-limited';

export interface RefusalAuditOptions {
  /** The `service` field of the events (the emitter rules check it against the signer). */
  service: string;
  /** The agency every event names: a subscriber may emit only about its own agency. */
  agency?: string | null;
  settings?: RefusalAuditSettings;
}

const REFUSAL_AUDIT_OPTIONS = Symbol('REFUSAL_AUDIT_OPTIONS');

class DropError extends Error {
  constructor(readonly reason: 'timeout' | 'backlog' | 'error') {
    super(`refusal audit dropped: ${reason}`);
  }
}

/**
 * Audits the roles guard's refusals (it records each on the request) in one Fastify onSend hook,
 * which runs before the reply is written:
 * - an identified caller (a known credential without the role, a revoked one) gets its refusal
 *   answered only once Kafka acknowledged the signed event (acks=all), or after
 *   REFUSAL_AUDIT_TIMEOUT_MS, then counted in `backbone_refusals_dropped_total`: a broker outage
 *   never hangs a refusal;
 * - anonymous refusals are counted per route, reason and address bucket and written as one event
 *   per key and window, and a source address past ANONYMOUS_REFUSAL_LIMIT is answered 429.
 */
@Injectable()
export class RefusalAuditor implements OnModuleInit, OnApplicationShutdown {
  private readonly settings: RefusalAuditSettings;
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;
  private pending = 0;
  private readonly aggregator: RefusalAggregator;
  private readonly limiter: AnonymousRefusalLimiter;
  private timer: NodeJS.Timeout | undefined;
  private refusals!: Counter;
  private dropped!: Counter;

  constructor(
    @Inject(REFUSAL_AUDIT_OPTIONS) private readonly opts: RefusalAuditOptions,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(TOPIC_NAMES) private readonly topics: TopicNames,
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.settings = opts.settings ?? DEFAULT_REFUSAL_AUDIT;
    // Its own producer: a refusal never waits behind the service's batches or transactions.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.aggregator = new RefusalAggregator(this.settings.REFUSAL_AGGREGATE_MAX_KEYS);
    this.limiter = new AnonymousRefusalLimiter(this.settings.ANONYMOUS_REFUSAL_LIMIT, this.settings.ANONYMOUS_REFUSAL_WINDOW_MS);
  }

  onModuleInit(): void {
    this.refusals = this.metrics.counter('backbone_refusals_total', 'Requests refused by the roles guard, by kind and reason', [
      'kind',
      'reason',
    ]);
    this.dropped = this.metrics.counter(
      'backbone_refusals_dropped_total',
      'Refusals whose audit event Kafka did not acknowledge in time (timeout), could not take (error) or that found too many waiting (backlog)',
      ['reason'],
    );
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const refusal = (req as FastifyRequest & AuthenticatedRequest).refusal;
      if (refusal === undefined) return payload;
      if (refusal.identified) {
        await this.auditIdentified(req, refusal);
        return payload;
      }
      return this.countAnonymous(req, reply, refusal, payload);
    });
    this.timer = setInterval(() => void this.flush(), this.settings.REFUSAL_AGGREGATE_WINDOW_MS);
    this.timer.unref();
    // Connected ahead of the first refusal, without holding start-up: a broker that is down now is
    // retried by the first send.
    void this.connect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    // The last window is written too, so a flood right before a restart is not lost.
    await this.flush();
    await this.producer.disconnect().catch(() => undefined);
  }

  /** Writes the anonymous refusals counted so far (the timer calls it every window). */
  async flush(): Promise<void> {
    const windows = this.aggregator.drain();
    await Promise.all(windows.map((w) => this.auditAggregate(w)));
  }

  private async auditIdentified(req: FastifyRequest, r: GuardRefusal): Promise<void> {
    this.refusals.inc({ kind: REFUSAL_KINDS.identified, reason: r.reason });
    const event = auditEvent(REFUSAL_EVENT_TYPE, this.opts.service, {
      actor: r.subject !== null ? storableText(r.subject.slice(0, 200)) : null,
      agency: this.opts.agency ?? r.agency,
      reason: r.reason,
      details: {
        refusal: REFUSAL_KINDS.identified,
        status: String(r.status),
        method: req.method,
        route: routeOf(req),
        client: clientBucketOf(req.ip),
      },
    });
    try {
      await this.send(event.eventId, encodeAuditEvent(event, this.kafkaConfig.eventSigner));
    } catch (err) {
      const reason = err instanceof DropError ? err.reason : 'error';
      this.dropped.inc({ reason });
      this.logger.warn({ err, reason, refusal: r.reason, eventId: event.eventId }, 'refusal answered without its audit event');
    }
  }

  private countAnonymous(req: FastifyRequest, reply: FastifyReply, r: GuardRefusal, payload: unknown): unknown {
    const decision = this.limiter.hit(req.ip ?? 'unknown', Date.now());
    const reason = decision.limited ? RATE_LIMITED_REASON : r.reason;
    this.refusals.inc({ kind: REFUSAL_KINDS.anonymous, reason });
    this.aggregator.add({ route: routeOf(req), reason, client: clientBucketOf(req.ip) }, new Date());
    if (!decision.limited) return payload;
    void reply
      .code(429)
      .header('retry-after', String(decision.retryAfterSeconds))
      .header('content-type', 'application/problem+json')
      .removeHeader('www-authenticate');
    return JSON.stringify({
      type: 'https://backbone.invalid/problems/too-many-requests',
      title: 'Too many unauthenticated requests',
      status: 429,
      reason: RATE_LIMITED_REASON,
      detail: `Retry after ${decision.retryAfterSeconds} s, or send a valid credential.`,
      instance: req.url,
    });
  }

  private async auditAggregate(w: AggregatedRefusal): Promise<void> {
    const event = auditEvent(REFUSAL_EVENT_TYPE, this.opts.service, {
      agency: this.opts.agency ?? null,
      reason: w.reason,
      details: {
        refusal: REFUSAL_KINDS.anonymous,
        count: String(w.count),
        firstAt: w.firstAt.toISOString(),
        lastAt: w.lastAt.toISOString(),
        route: w.route,
        client: w.client,
      },
    });
    try {
      await this.send(event.eventId, encodeAuditEvent(event, this.kafkaConfig.eventSigner));
    } catch (err) {
      const reason = err instanceof DropError ? err.reason : 'error';
      this.dropped.inc({ reason }, w.count);
      this.logger.warn({ err, reason, refusals: w.count }, 'anonymous refusals not audited');
    }
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  /** Sends one event with acks=all, giving up after the bound (the send may still land later). */
  private async send(key: string, value: Buffer): Promise<void> {
    if (this.pending >= this.settings.REFUSAL_AUDIT_MAX_PENDING) throw new DropError('backlog');
    this.pending++;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DropError('timeout')), this.settings.REFUSAL_AUDIT_TIMEOUT_MS);
    });
    const sent = (async () => {
      await this.connect();
      await this.producer.send({ topic: this.topics.audit, acks: -1, messages: [{ key, value }] });
    })();
    try {
      await Promise.race([sent, deadline]);
    } finally {
      clearTimeout(timer);
      // The slot is freed when Kafka answers, not at the deadline: a stalled broker fills the backlog.
      void sent.then(
        () => this.pending--,
        () => this.pending--,
      );
    }
  }
}

function routeOf(req: FastifyRequest): string {
  return storableText((req.routeOptions.url ?? req.url.split('?')[0] ?? '').slice(0, 300));
}

/** Refusal audit for one service: import it into the service's root module, next to KafkaModule. */
@Module({})
export class RefusalAuditModule {
  static forService(opts: RefusalAuditOptions): DynamicModule {
    return {
      module: RefusalAuditModule,
      providers: [{ provide: REFUSAL_AUDIT_OPTIONS, useValue: opts }, RefusalAuditor],
      exports: [RefusalAuditor],
    };
  }
}
