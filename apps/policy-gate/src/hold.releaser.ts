import type { Kafka, Producer } from 'kafkajs';
import { alertCodec, assertStorable, type EventSigningKey } from '@backbone/codec';
import type { Logger } from '@backbone/bootstrap';
import type { TopicNames } from '@backbone/kafka';
import { gateCodecsFor } from './gate.codecs.js';
import type { GatePolicy } from './gate-policy.port.js';
import type { GateRepository } from '@backbone/gate-store';
import { planRelease, type ReleasePlan } from './hold.release.js';
import { SERVICE } from './policy-gate.consumer.js';
import { transactionalIdFor } from './policy-gate.config.js';
import { createTransactionalProducer, startTransactionalProducer, topicMessagesOf } from './transactional-producer.js';

/** The release producer's transactional id: distinct from the consumer loop's, so neither fences the other. */
export function releaseTransactionalIdFor(instanceId: string): string {
  return `${transactionalIdFor(instanceId)}-release`;
}

export class NoHoldError extends Error {
  override readonly name = 'NoHoldError';
}

export interface ReleaseRequest {
  readonly alertId: string;
  /** Default: the newest held version of the alert. */
  readonly version?: number;
  /** Default: every pending hold of that version. */
  readonly agencies?: readonly string[];
  readonly releasedBy: string;
}

export type ReleaseResult = Omit<ReleasePlan, 'messages' | 'recipients'>;

/**
 * Releases held alerts: re-checks the policy, records the recipients in PostgreSQL, writes the
 * deliveries and the DECIDED event in one Kafka transaction (its own transactional producer),
 * then marks the holds released. The holds' rows stay locked from the read to the PostgreSQL
 * commit, so a concurrent second release waits and then finds nothing pending.
 */
export class HoldReleaser {
  private producer: Producer | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly o: {
      kafka: Kafka;
      topics: TopicNames;
      policy: GatePolicy;
      repository: GateRepository;
      logger: Logger;
      instanceId: string;
      eventSigner?: EventSigningKey | null;
    },
  ) {}

  get transactionalId(): string {
    return releaseTransactionalIdFor(this.o.instanceId);
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = createTransactionalProducer(this.o.kafka, this.transactionalId);
    // InitProducerId: aborts whatever a previous incarnation left open.
    await startTransactionalProducer(producer);
    this.producer = producer;
    return producer;
  }

  /** One release at a time: a transactional producer runs one transaction at once. */
  release(req: ReleaseRequest, now: Date = new Date()): Promise<ReleaseResult> {
    const run = this.queue.then(() => this.releaseNow(req, now));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async releaseNow(req: ReleaseRequest, now: Date): Promise<ReleaseResult> {
    const repo = this.o.repository;
    const version = req.version ?? (await repo.latestHeldVersion(req.alertId));
    if (version === null) throw new NoHoldError(`alert ${req.alertId} has no held version`);
    return repo.withLockedHolds(req.alertId, version, async (holds, m) => {
      if (holds.length === 0) throw new NoHoldError(`alert ${req.alertId} has no hold for version ${version}`);
      const pending = holds.filter((h) => h.releasedAt === null);
      const decisions = await repo.decisionsFor(req.alertId);
      const stored = decisions.find((d) => d.version === version);
      const alert = alertCodec.decode(holds[0]!.alert);
      // The shared storable rules: a held record no store can hold is not pushed into any feed.
      assertStorable(alert);
      const plan = planRelease({
        alert,
        holds: pending,
        storedOutcomes: stored?.outcomes ?? [],
        newestDecidedVersion: decisions.reduce<number | null>((max, d) => (max === null || d.version > max ? d.version : max), null),
        requested: req.agencies ?? null,
        policy: this.o.policy,
        now,
        releasedBy: req.releasedBy,
        service: SERVICE,
        topics: this.o.topics,
        codecs: gateCodecsFor(this.o.eventSigner ?? null),
      });
      if (plan.messages.length > 0) {
        // PostgreSQL first (ADR 0003): the recipients are committed before the deliveries can be
        // seen, so a later Update or Cancel decided by the gate always reaches them.
        await repo.recordRecipients(req.alertId, version, plan.released);
        await this.commit(plan);
      }
      // After the Kafka commit: if this fails, the holds stay pending and a repeated release
      // delivers the same version again, which each inbox ignores ((alertId, version) is unique).
      await repo.markReleased(m, req.alertId, version, plan.released, req.releasedBy);
      this.o.logger.info(
        { alertId: req.alertId, version, released: plan.released, denied: plan.denied, releasedBy: req.releasedBy },
        'held alert released',
      );
      const { messages: _m, recipients: _r, ...result } = plan;
      return result;
    });
  }

  private async commit(plan: ReleasePlan): Promise<void> {
    const topicMessages = topicMessagesOf(plan.messages);
    const producer = await this.connected();
    const txn = await producer.transaction();
    let committing = false;
    try {
      await txn.sendBatch({ topicMessages });
      committing = true;
      await txn.commit();
    } catch (err) {
      if (!committing) await txn.abort().catch(() => undefined);
      // The producer's transaction state may be stuck; a fresh one gets a new epoch.
      this.producer = undefined;
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.queue;
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }
}
