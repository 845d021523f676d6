import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { alertCodec, describeUnstorable, isUuid, unstorableFields, type Alert, type MsgType } from '@backbone/codec';
import { LOGGER, MetricsService, problem, type Logger, type ProblemException } from '@backbone/bootstrap';
import { auditEvent, encodeAuditEvent, KAFKA_CONFIG, TOPIC_NAMES, type KafkaConfig, type TopicNames } from '@backbone/kafka';
import { inSpan, SPAN_ATTR, SPANS, traceHeaders } from '@backbone/telemetry';
import type { Office } from '../auth/office-credential.verifier.js';
import type { PublisherConfig } from '../config/publisher.config.js';
import { AlertStore, type AlertRow } from '../persistence/alert.store.js';
import { IdempotencyStore } from '../persistence/idempotency.store.js';
import { probeKey } from '../reconcile/committed-version.finder.js';
import { PublicationReconciler } from '../reconcile/publication.reconciler.js';
import { GroupCommitPublisher, PublishUnavailableError } from '../publishing/group-commit.publisher.js';
import { submittedPartition } from '../publishing/region.partitioner.js';
import { AGENCY_DIRECTORY, PUBLISHER_CONFIG, SERVICE } from '../publisher.tokens.js';
import type { AgencyDirectory } from '../registry/agency-directory.js';
import { validateAlertContent, validateCancelBody, type AlertContent } from '../validation/alert-input.validator.js';

/** What POST /alerts, /updates and /cancel answer: where the broker put the version. */
export interface PublishedVersion {
  alertId: string;
  version: number;
  msgType: MsgType;
  sent: string;
  partition: number;
  offset: string;
}

export interface ApiResult<T> {
  statusCode: number;
  body: T;
  /** True when an Idempotency-Key retry got the stored first answer. */
  replayed: boolean;
}

export interface AlertStatus {
  alertId: string;
  sender: string;
  senderRegion: string;
  state: 'active' | 'cancelled';
  latestVersion: number;
  noticeType: string;
  headline: string;
  createdAt: string;
  updatedAt: string;
  versions: {
    version: number;
    msgType: MsgType;
    state: 'pending' | 'published';
    partition: number | null;
    offset: string | null;
    sent: string;
  }[];
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** Thrown with the HTTP headers the answer must carry (Retry-After). */
export class ProblemWithHeaders extends Error {
  constructor(
    readonly problem: ProblemException,
    readonly headers: Record<string, string>,
  ) {
    super(problem.message);
  }
}

/**
 * Tracks whether a failing request may already be on the broker. Reservations (Idempotency-Key,
 * version n+1) are released only when it cannot be: before Kafka was asked, or when the publisher
 * reported that nothing was published (503). Once the broker may have committed, a failure (e.g.
 * recording the version in the database) leaves them pending, so a retry gets 409 in-progress
 * instead of publishing a duplicate.
 */
interface PublishAttempt {
  mayHaveCommitted: boolean;
  /** Names the version the Idempotency-Key publishes (before Kafka is asked); false: the key is gone. */
  bind: (alertId: string, version: number) => Promise<boolean>;
}

@Injectable()
export class AlertsService {
  private readonly published;
  private readonly latency;

  constructor(
    private readonly alerts: AlertStore,
    private readonly idempotency: IdempotencyStore,
    private readonly publisher: GroupCommitPublisher,
    @Inject(AGENCY_DIRECTORY) private readonly agencies: AgencyDirectory,
    @Inject(TOPIC_NAMES) private readonly topics: TopicNames,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(PUBLISHER_CONFIG) private readonly config: PublisherConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly reconciler: PublicationReconciler,
    metrics: MetricsService,
  ) {
    this.published = metrics.counter('publisher_alert_versions_total', 'Alert versions published', ['msg_type']);
    this.latency = metrics.histogram(
      'publisher_publish_seconds',
      'From validated request to broker acknowledgement',
      ['msg_type'],
      [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
    );
  }

  async create(office: Office, body: unknown, idemKey: string | undefined): Promise<ApiResult<PublishedVersion>> {
    // Validated inside the idempotency wrapper: a retry after `expires` passed still replays the first answer.
    return this.idempotent(
      office,
      idemKey,
      () => `POST /alerts ${JSON.stringify(body)}`,
      async (attempt) => {
        const content = this.validContent(body);
        const alertId = randomUUID();
        const alert = this.complete(office, content, alertId, 1, 'Alert', []);
        // Version 1 is reserved like any other, so a crash after the Kafka commit leaves a row the
        // reconciler completes (the office would otherwise get 404 for an alert it published).
        const ack = await this.publishReserved(alert, attempt, () => {
          throw new Error(`fresh alert id ${alertId} already reserved`);
        });
        await this.recordCommitted(ack, () =>
          this.alerts.recordCreated(
            {
              alertId,
              sender: alert.sender,
              senderRegion: alert.senderRegion,
              noticeType: alert.noticeType,
              headline: alert.headline,
              content: JSON.stringify(content),
            },
            alert.sent,
            ack.partition,
            ack.offset,
          ),
        );
        return { statusCode: 201, body: ack };
      },
    );
  }

  async update(office: Office, alertId: string, body: unknown, idemKey: string | undefined): Promise<ApiResult<PublishedVersion>> {
    // Inside the idempotency wrapper, so a retried update that already went through replays its answer.
    return this.idempotent(
      office,
      idemKey,
      () => `POST /alerts/${alertId}/updates ${JSON.stringify(body)}`,
      async (attempt) => {
        const current = await this.ownAlert(office, alertId);
        const content = this.validContent(body);
        const previous = fromJson(current.content);
        // An exercise never turns into real traffic (or the reverse) by an update.
        const immutable = [];
        if (content.status !== previous.status)
          immutable.push({ field: '/status', code: 'immutable', message: `must stay ${previous.status} for every version of an alert` });
        if (content.exerciseId !== previous.exerciseId)
          immutable.push({ field: '/exerciseId', code: 'immutable', message: 'must stay the same for every version of an alert' });
        if (immutable.length > 0) throw validationProblem(immutable);
        return this.nextVersion(office, current, 'Update', content, attempt);
      },
    );
  }

  async cancel(office: Office, alertId: string, body: unknown, idemKey: string | undefined): Promise<ApiResult<PublishedVersion>> {
    return this.idempotent(
      office,
      idemKey,
      () => `POST /alerts/${alertId}/cancel ${JSON.stringify(body ?? null)}`,
      async (attempt) => {
        const current = await this.ownAlert(office, alertId);
        const parsed = validateCancelBody(body);
        if (!parsed.ok) throw validationProblem(parsed.errors);
        const previous = fromJson(current.content);
        const content: AlertContent = parsed.note === null ? previous : { ...previous, description: parsed.note };
        return this.nextVersion(office, current, 'Cancel', content, attempt);
      },
    );
  }

  async status(office: Office, alertId: string): Promise<AlertStatus> {
    const a = await this.ownAlert(office, alertId, false);
    const versions = await this.alerts.versions(alertId);
    return {
      ...summary(a),
      versions: versions.map((v) => ({ ...v, sent: v.sent.toISOString() })),
    };
  }

  async list(
    office: Office,
    limit: number,
    offset: number,
  ): Promise<{ items: Omit<AlertStatus, 'versions'>[]; total: number; limit: number; offset: number }> {
    const page = await this.alerts.list(office.agency.code, limit, offset);
    return { items: page.items.map(summary), total: page.total, limit, offset };
  }

  private validContent(body: unknown): AlertContent {
    const result = validateAlertContent(body, this.agencies);
    if (!result.ok) throw validationProblem(result.errors);
    return result.content;
  }

  /** The caller's own alert: 404 when unknown, 403 when another office's, 409 when cancelled (for changes). */
  private async ownAlert(office: Office, alertId: string, mustBeActive = true): Promise<AlertRow> {
    const a = isUuid(alertId) ? await this.alerts.find(alertId) : undefined;
    if (!a)
      throw problem(404, 'unknown-alert', 'No such alert', {
        detail: `No alert ${alertId} was published through this service.`,
        reason: 'unknown-alert',
      });
    if (a.sender !== office.agency.code) {
      throw problem(403, 'not-owner', 'Not your alert', {
        detail: 'Only the originating office may read, update or cancel an alert.',
        reason: 'not-owner',
      });
    }
    if (mustBeActive && a.state === 'cancelled') {
      throw problem(409, 'alert-cancelled', 'Alert cancelled', {
        detail: `Alert ${alertId} was cancelled in version ${a.latestVersion}; it cannot change any more.`,
        reason: 'alert-cancelled',
      });
    }
    return a;
  }

  private async nextVersion(
    office: Office,
    current: AlertRow,
    msgType: MsgType,
    content: AlertContent,
    attempt: PublishAttempt,
    healed = false,
  ): Promise<{ statusCode: number; body: PublishedVersion }> {
    const version = current.latestVersion + 1;
    const alert = this.complete(office, content, current.alertId, version, msgType, [
      { alertId: current.alertId, version: current.latestVersion },
    ]);
    let settled: 'completed' | 'released' | 'pending' | 'gone' = 'pending';
    try {
      const ack = await this.publishReserved(alert, attempt, async () => {
        // Version n+1 is taken. A reservation left pending by a crash is settled now, not answered 409 for ever.
        if (!healed) settled = await this.reconciler.settleVersion(current.alertId, version);
        if (settled === 'pending' || healed) {
          throw new ProblemWithHeaders(
            problem(409, 'concurrent-change', 'Concurrent change', {
              detail: `Version ${version} of this alert is being published by another request; reload its status and retry.`,
              reason: 'concurrent-change',
            }),
            { 'Retry-After': '1' },
          );
        }
      });
      await this.recordCommitted(ack, () =>
        this.alerts.recordVersion(
          current.alertId,
          version,
          msgType,
          JSON.stringify(content),
          content.noticeType,
          content.headline,
          ack.partition,
          ack.offset,
        ),
      );
      return { statusCode: 201, body: ack };
    } catch (err) {
      if (settled === 'pending' || healed) throw err;
      // Healed: the alert moved on (a committed version recorded) or the slot is free again.
      return this.nextVersion(office, await this.ownAlert(office, current.alertId), msgType, content, attempt, true);
    }
  }

  /**
   * Reserves the alert's version (with its encoded record), names it on the Idempotency-Key, then
   * publishes. `taken` runs when the version is already reserved and must throw. The reservation
   * is released only when nothing reached the broker; otherwise it stays pending for the reconciler.
   */
  private async publishReserved(alert: Alert, attempt: PublishAttempt, taken: () => Promise<void> | never): Promise<PublishedVersion> {
    const encoded = this.encodeStorable(alert);
    const done = this.reconciler.track(probeKey(alert.alertId, alert.version));
    try {
      if (!(await this.alerts.reserveVersion(alert.alertId, alert.version, alert.msgType, alert.sent, encoded))) {
        await taken();
        throw new Error(`version ${alert.version} of ${alert.alertId} is taken`);
      }
      try {
        if (!(await attempt.bind(alert.alertId, alert.version))) {
          throw new ProblemWithHeaders(
            problem(409, 'idempotency-key-in-progress', 'Request in progress', {
              detail: 'This Idempotency-Key was reconciled meanwhile; retry to learn its outcome.',
              reason: 'idempotency-key-in-progress',
            }),
            { 'Retry-After': '1' },
          );
        }
        return await this.publishVersion(alert, encoded, attempt);
      } catch (err) {
        // Released only when nothing reached the broker: otherwise the version stays reserved (pending).
        if (!attempt.mayHaveCommitted) {
          await this.alerts
            .releaseVersion(alert.alertId, alert.version)
            .catch((e: unknown) => this.logger.error({ err: e }, 'could not release a version reservation'));
        } else {
          this.logger.error(
            { err, alertId: alert.alertId, version: alert.version },
            'version failed after publishing; its reservation stays pending for the reconciler',
          );
        }
        throw err;
      }
    } finally {
      done();
    }
  }

  /**
   * Records a version Kafka has committed. The office is answered 201 whatever happens here: the
   * alert is published. A failed write leaves the reservation pending; the reconciler records it.
   */
  private async recordCommitted(ack: PublishedVersion, record: () => Promise<void>): Promise<void> {
    try {
      await record();
    } catch (err) {
      this.logger.error(
        { err, alertId: ack.alertId, version: ack.version },
        'committed version not recorded; the reconciler will record it',
      );
    }
  }

  /** Defence in depth behind the validator: the completed record, server fields included, must be storable by every consumer. */
  private encodeStorable(alert: Alert): Buffer {
    const unstorable = unstorableFields(alert);
    if (unstorable.length > 0)
      throw validationProblem(unstorable.map((u) => ({ field: u.field, code: u.reason, message: describeUnstorable(u.reason) })));
    return alertCodec.encode(alert);
  }

  /** The server's part: identity, region, version, references and time; never from the body. */
  private complete(
    office: Office,
    content: AlertContent,
    alertId: string,
    version: number,
    msgType: MsgType,
    references: Alert['references'],
  ): Alert {
    return {
      ...content,
      alertId,
      version,
      msgType,
      references,
      sender: office.agency.code,
      senderRegion: office.agency.region,
      sent: new Date(),
    };
  }

  /** The alert and its SUBMITTED audit event (carrying the encoded alert) in one transaction. */
  private async publishVersion(alert: Alert, encoded: Buffer, attempt: PublishAttempt): Promise<PublishedVersion> {
    const started = performance.now();
    const partition = submittedPartition(alert.senderRegion, alert.alertId);
    const audit = auditEvent('SUBMITTED', SERVICE, {
      actor: alert.sender,
      originator: alert.sender,
      alertId: alert.alertId,
      alertVersion: alert.version,
      noticeType: alert.noticeType,
      details: { msgType: alert.msgType, topic: this.topics.submitted, partition: String(partition) },
      payload: encoded,
    });
    let acks;
    attempt.mayHaveCommitted = true;
    try {
      // The alert record carries this span's W3C trace context (traceparent) to the gate and on.
      acks = await inSpan(
        SPANS.publisherCommit,
        { [SPAN_ATTR.alertId]: alert.alertId, [SPAN_ATTR.alertVersion]: alert.version },
        (_span, ctx) =>
          this.publisher.publish([
            {
              topic: this.topics.submitted,
              partition,
              key: alert.alertId,
              value: encoded,
              headers: { 'content-type': 'application/vnd.apache.avro+single-object', ...traceHeaders(ctx) },
            },
            { topic: this.topics.audit, key: alert.alertId, value: encodeAuditEvent(audit, this.kafkaConfig.eventSigner) },
          ]),
      );
    } catch (err) {
      if (err instanceof PublishUnavailableError) {
        // The publisher guarantees nothing was (or will be) committed.
        attempt.mayHaveCommitted = false;
        const retryAfter = String(this.config.settings.RETRY_AFTER_SECONDS);
        throw new ProblemWithHeaders(
          problem(503, 'kafka-unavailable', 'Alert not published', {
            detail: 'The message broker is unreachable; nothing was published. Retry later with the same Idempotency-Key.',
            reason: 'kafka-unavailable',
          }),
          { 'Retry-After': retryAfter },
        );
      }
      throw err;
    }
    const ack = acks[0]!;
    if (ack.offset === null) throw new Error(`broker acknowledged ${alert.alertId} without an offset`);
    this.published.inc({ msg_type: alert.msgType });
    this.latency.observe({ msg_type: alert.msgType }, (performance.now() - started) / 1000);
    return {
      alertId: alert.alertId,
      version: alert.version,
      msgType: alert.msgType,
      sent: alert.sent.toISOString(),
      partition: ack.partition,
      offset: ack.offset,
    };
  }

  /**
   * A pending key old enough to be settled (its request cannot still be publishing): its version is
   * reconciled against Kafka, or the key released when no version was ever attached (nothing was
   * published). True when something changed and the reservation should be read again.
   */
  private async settleKey(agency: string, key: string): Promise<boolean> {
    const p = await this.idempotency.pending(agency, key);
    if (!p) return true;
    // Reserved by an earlier boot with this process's transactional.id (a crashed predecessor):
    // once this boot's producer holds the id, the predecessor can commit nothing more and what it
    // left open is aborted, so Kafka already knows the outcome: settle it now, whatever its age.
    const orphaned =
      p.owner !== null && p.owner.transactionalId === this.publisher.transactionalId && p.owner.bootId !== this.publisher.bootId;
    if (orphaned) {
      try {
        await this.publisher.register();
      } catch (err) {
        this.logger.warn({ err }, 'could not register the transactional id to settle an orphaned key; the retry is answered in progress');
        return false;
      }
    } else if (p.ageMs < this.reconciler.settleMs) return false;
    const olderThanMs = orphaned ? 0 : this.reconciler.settleMs;
    if (p.alertId === null || p.version === null) {
      await this.idempotency.release(agency, key);
      return true;
    }
    const settled = await this.reconciler.settleVersion(p.alertId, p.version, olderThanMs);
    if (settled === 'gone') await this.idempotency.settleOrphans(olderThanMs, { agency, key });
    return settled !== 'pending';
  }

  private async idempotent<T>(
    office: Office,
    key: string | undefined,
    request: () => string,
    work: (attempt: PublishAttempt) => Promise<{ statusCode: number; body: T }>,
  ): Promise<ApiResult<T>> {
    if (key === undefined) return { ...(await work({ mayHaveCommitted: false, bind: async () => true })), replayed: false };
    if (!IDEMPOTENCY_KEY.test(key)) {
      throw validationProblem([
        { field: 'header:Idempotency-Key', code: 'invalid-format', message: 'must be 1-200 visible ASCII characters' },
      ]);
    }
    const agency = office.agency.code;
    const attempt: PublishAttempt = {
      mayHaveCommitted: false,
      bind: (alertId, version) => this.idempotency.attach(agency, key, alertId, version),
    };
    const hash = createHash('sha256').update(request()).digest('hex');
    const owner = { transactionalId: this.publisher.transactionalId, bootId: this.publisher.bootId };
    let r = await this.idempotency.reserve(agency, key, hash, owner);
    // A key left pending by a crash or a failed write: settle it now, so the retry gets one definitive answer.
    if (r.kind === 'in-progress' && (await this.settleKey(agency, key))) r = await this.idempotency.reserve(agency, key, hash, owner);
    if (r.kind === 'replay') return { statusCode: r.response.statusCode, body: r.response.body as T, replayed: true };
    if (r.kind === 'in-progress') {
      throw new ProblemWithHeaders(
        problem(409, 'idempotency-key-in-progress', 'Request in progress', {
          detail: 'A request with this Idempotency-Key is still being processed.',
          reason: 'idempotency-key-in-progress',
        }),
        { 'Retry-After': '1' },
      );
    }
    if (r.kind === 'mismatch') {
      throw problem(422, 'idempotency-key-reused', 'Idempotency-Key reused', {
        detail: 'This Idempotency-Key was used for a different request.',
        reason: 'idempotency-key-reused',
      });
    }
    try {
      const result = await work(attempt);
      // Committed: a failure to store the answer leaves the key pending; the reconciler answers it.
      await this.idempotency
        .complete(agency, key, result)
        .catch((err: unknown) => this.logger.error({ err }, 'answer not stored on its key; the reconciler will'));
      return { ...result, replayed: false };
    } catch (err) {
      // Released when nothing reached the broker, so that a later retry (Kafka back) publishes
      // exactly once. Once the broker may have committed, the key stays pending: a retry gets 409
      // in-progress, never a duplicate.
      if (!attempt.mayHaveCommitted) {
        await this.idempotency
          .release(agency, key)
          .catch((e: unknown) => this.logger.error({ err: e }, 'could not release an idempotency key'));
      }
      throw err;
    }
  }
}

function validationProblem(errors: { field: string; code: string; message: string }[]): ProblemException {
  return problem(400, 'validation-failed', 'The alert is not valid', {
    detail: `${errors.length} field(s) are not valid.`,
    errors,
    reason: 'validation-failed',
  });
}

function summary(a: AlertRow): Omit<AlertStatus, 'versions'> {
  return {
    alertId: a.alertId,
    sender: a.sender,
    senderRegion: a.senderRegion,
    state: a.state,
    latestVersion: a.latestVersion,
    noticeType: a.noticeType,
    headline: a.headline,
    createdAt: new Date(a.createdAt).toISOString(),
    updatedAt: new Date(a.updatedAt).toISOString(),
  };
}

/** Content as stored in jsonb (dates as ISO strings) back to AlertContent. */
function fromJson(json: Record<string, unknown>): AlertContent {
  const c = json as unknown as AlertContent & { expires: string | null };
  return { ...c, expires: c.expires === null ? null : new Date(c.expires) };
}
