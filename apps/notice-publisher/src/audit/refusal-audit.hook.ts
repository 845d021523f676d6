import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUuid, storableText } from '@backbone/codec';
import { LOGGER, MetricsService, type Logger } from '@backbone/bootstrap';
import { auditEvent, encodeAuditEvent, KAFKA_CONFIG, TOPIC_NAMES, type KafkaConfig, type TopicNames } from '@backbone/kafka';
import { GroupCommitPublisher } from '../publishing/group-commit.publisher.js';
import { SERVICE } from '../publisher.tokens.js';
import type { AuthenticatedRequest } from '@backbone/auth';

/**
 * Every refusal past the roles guard (404 of an alert, 409, 413, 415, 422, validation 400) becomes a REJECTED
 * audit event with a named reason. Done in one Fastify onSend hook rather than at each throw, so
 * refusals raised by Fastify itself (body too large, bad JSON) are audited too and none is missed.
 */
@Injectable()
export class RefusalAuditHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly publisher: GroupCommitPublisher,
    @Inject(TOPIC_NAMES) private readonly topics: TopicNames,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const refusals = this.metrics.counter('publisher_refusals_total', 'Requests refused, by reason', ['reason']);
    fastify.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const status = reply.statusCode;
      if (status < 400 || status >= 500) return payload;
      // Unknown routes are noise (scanners), not refusals of a liaison office's request.
      if (status === 404 && !req.routeOptions.url) return payload;
      // The roles guard's refusals (401/403 and the anonymous 429) are audited by RefusalAuditModule:
      // an identified caller's before the answer, anonymous ones in aggregate (a flood must not fill the ledger).
      if ((req as FastifyRequest & AuthenticatedRequest).refusal !== undefined) return payload;
      const body = parseProblem(payload);
      const reason = body.reason ?? body.type?.split('/').pop() ?? `http-${status}`;
      refusals.inc({ reason });
      this.emit(req as FastifyRequest & AuthenticatedRequest, status, reason, body);
      return payload;
    });
  }

  private emit(req: FastifyRequest & AuthenticatedRequest, status: number, reason: string, body: ProblemBody): void {
    const alertId = (req.params as { id?: string } | undefined)?.id;
    const details: Record<string, string> = {
      status: String(status),
      method: req.method,
      route: req.routeOptions.url ?? req.url.split('?')[0] ?? '',
    };
    if (body.errors?.length) {
      // storableText: the ledger must be able to hold whatever a refused body named.
      details['fields'] = storableText(
        body.errors
          .map((e) => `${e.field}:${e.code}`)
          .join(',')
          .slice(0, 4000),
      );
    }
    const event = auditEvent('REJECTED', SERVICE, {
      actor: req.principal?.agency ?? null,
      originator: req.principal?.agency ?? null,
      alertId: alertId !== undefined && isUuid(alertId) ? alertId : null,
      reason,
      details,
    });
    // Not awaited: the refusal is answered at once; the audit record follows in the next batch.
    this.publisher
      .publish([
        { topic: this.topics.audit, key: event.alertId ?? event.eventId, value: encodeAuditEvent(event, this.kafkaConfig.eventSigner) },
      ])
      .catch((err: unknown) => this.logger.error({ err, reason, eventId: event.eventId }, 'could not audit a refusal'));
  }
}

interface ProblemBody {
  type?: string;
  reason?: string;
  errors?: { field: string; code: string }[];
}

function parseProblem(payload: unknown): ProblemBody {
  try {
    const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
    const parsed: unknown = text ? JSON.parse(text) : {};
    return typeof parsed === 'object' && parsed !== null ? (parsed as ProblemBody) : {};
  } catch {
    // Not JSON (a stream or plain text): audit with the status-derived reason only.
    return {};
  }
}
