import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Producer } from 'kafkajs';
import pg from 'pg';
import type { HealthRegistry, Logger, MetricsService } from '@backbone/bootstrap';
import type { EventKeyring, EventSigningKey } from '@backbone/codec';
import {
  ConsumerSafety,
  createKafka,
  DEFAULT_CONSUMER_SAFETY,
  KafkaConfig,
  PARKING_SERVICES,
  topicNames,
  type ConsumerSafetySettings,
  type KafkaConnection,
} from '@backbone/kafka';
import { AUDIT_REPLAY_TRANSACTIONAL_ID_PREFIX } from '@backbone/infra';
import type { OfficeIntrospectionClient } from '@backbone/office-auth';
import type { AuditLoggerContext } from './audit-logger.context.js';
import { AuditIngestConsumer } from './audit-ingest.consumer.js';
import {
  anchorsOfLedger,
  checkLedgerSchema,
  CheckpointAnchor,
  defaultSigningKeyFile,
  generateSigningKey,
  loadSigningKey,
  mergeAnchors,
  readAnchorsFromFile,
  readLedgerId,
  type Anchor,
  type SigningKey,
} from '@backbone/ledger';
import { AnchorFollower } from './anchor.follower.js';
import { LedgerWriter } from './ledger.writer.js';

export interface AuditLoggerOptions {
  /** A connection (then `prefix` applies) or a full KafkaConfig (its own prefix). */
  kafka: KafkaConnection | KafkaConfig;
  /**
   * The app role's own URL (INSERT/SELECT on the ledger), never the owner's: migrations and the
   * role's password are set by provisioning (`backbone audit migrate`, `provisionLedger`), and
   * start-up refuses a database they have not been run on (checkLedgerSchema).
   */
  databaseUrl: string;
  prefix?: string;
  /** Generated (PKCS#8 PEM Ed25519, mode 0600) when missing. Default .backbone/audit/signing-key.pem */
  signingKeyFile?: string;
  checkpointEveryRows?: number;
  checkpointEveryMs?: number;
  groupId?: string;
  policiesDir?: string;
  /**
   * Public event keys of every principal. With them, each event's signature and emitter are
   * checked and forged ones parked; without them (ledger-only tests) events are entered unchecked.
   */
  eventKeyring?: EventKeyring;
  /** Verifies liaison office tokens for the office routes (OFFICE_INTROSPECTION_*); unset: they refuse everyone. */
  officeIntrospection?: OfficeIntrospectionClient | null;
  /** This service's own event key (default: the KafkaConfig's): signs the AUDIT_ACCESSED and REPLAYED events it emits. */
  eventSigningKey?: EventSigningKey;
  /**
   * Anchor every signed checkpoint outside the database: on the checkpoints topic (`topic`) and/or
   * appended to `file`. Verify then compares the ledger with the anchors.
   */
  anchors?: {
    topic: boolean;
    file?: string | null;
    maxUnanchoredTail?: number;
    /** How long verify waits for the topic's anchors (end offset, then the follower catching up) before reporting them unread; default 30 s. */
    readTimeoutMs?: number;
  };
  /** Retry, parking and stall settings (CONSUMER_* in docs/operator.md); default: their defaults. */
  consumerSafety?: ConsumerSafetySettings;
  /** How long the ingest waits for another audit logger's claim on the group before refusing to start (default 30 s). */
  ingestClaimWaitMs?: number;
}

/** The service's registries the ingest reports to (lag, parked and retry metrics; stall readiness). */
export interface AuditObservability {
  metrics: MetricsService;
  health: HealthRegistry;
}

/** The ledger side of the audit logger: what the compliance API reads and what the tests inspect. */
export interface AuditLedgerRuntime {
  context: AuditLoggerContext;
  pool: pg.Pool;
  writer: LedgerWriter;
  consumer: AuditIngestConsumer;
  safety: ConsumerSafety;
  /** Where records the ledger can never store are parked. */
  parkedTopic: string;
  producer: Producer;
  signingKey: SigningKey;
  /** The anchor follower's consumer group (one per process start); null when the topic is not anchored to. */
  anchorGroupId: string | null;
  close(): Promise<void>;
}

export function ensureSigningKey(path: string): SigningKey {
  return existsSync(path) ? loadSigningKey(path) : generateSigningKey(path);
}

/**
 * Opens the ledger (as the app role, its schema version checked), the signing key, the ingest consumer and the
 * checkpoint timer; the module calls it at start-up and `close()` on shutdown, in reverse order.
 */
export async function openAuditLedger(opts: AuditLoggerOptions, logger: Logger, observe: AuditObservability): Promise<AuditLedgerRuntime> {
  const config = opts.kafka instanceof KafkaConfig ? opts.kafka : KafkaConfig.of(opts.kafka, opts.prefix ?? '');
  const topics = topicNames(config.settings.KAFKA_TOPIC_PREFIX);
  const signingKey = ensureSigningKey(opts.signingKeyFile ?? defaultSigningKeyFile());

  // The service's own login: INSERT/SELECT on the ledger, nothing more.
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    // Eight for the ledger's work, one held for the ingest's claim (AuditIngestConsumer.claimSingleton).
    max: 9,
    application_name: 'audit-logger',
  });
  // An idle connection killed by the server (restart, pg_terminate_backend, failover) is an
  // 'error' event on the pool; unhandled, it would end the process. The pool replaces the
  // connection on next use, and a query in flight fails and is retried by the ingest.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle PostgreSQL connection lost; the pool reconnects'));
  // A connection killed while checked out but between two queries is an 'error' event on the client,
  // which the pool does not listen for then. Every client gets a listener of its own for the life of
  // the connection: the holder learns of the loss from its next query, which fails and is handled.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // Before anything else: a database provisioning has not migrated stops start-up with the reason.
  await checkLedgerSchema(pool).catch(async (err: unknown) => {
    await pool.end().catch(() => undefined);
    throw err;
  });
  const cleanups: (() => Promise<unknown>)[] = [() => pool.end()];
  const closeAll = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => logger.warn({ err }, 'shutdown step failed'));
  };
  try {
    // Assigned once the producer is connected; checkpoints are only signed after that (ingest starts later).
    let anchor: CheckpointAnchor | undefined;
    const writer = new LedgerWriter(pool, {
      signingKey,
      checkpointEveryRows: opts.checkpointEveryRows ?? 1000,
      onCheckpoint: async (cp) => {
        // The checkpoint is committed; an anchor that cannot be written is reported loudly, and verify
        // (which compares with the anchors) will show the gap.
        await anchor?.anchor(cp).catch((err: unknown) => logger.error({ err, seq: cp.seq }, 'checkpoint anchor not written'));
      },
    });
    await writer.registerKey();
    const ledgerId = await readLedgerId(pool);
    const kafka = createKafka(config.connection, 'audit-logger', logger);
    const anchoring = opts.anchors;
    // Follows the anchor topic for the life of the process (one admin, one consumer), so a verify
    // only asks for the topic's end offset. Started first and not awaited: its group join
    // (group.initial.rebalance.delay.ms, 3 s on a default broker) overlaps the ingest's start-up
    // instead of adding to it; a verify that comes before it is done waits within its deadline.
    let follower: AnchorFollower | undefined;
    let followerClosing: Promise<void> | undefined;
    const closeFollower = (): Promise<void> => (followerClosing ??= follower?.close() ?? Promise.resolve());
    if (anchoring?.topic) {
      follower = new AnchorFollower({
        kafka,
        topic: topics.checkpoints,
        // Only this ledger's: other ledgers on the broker anchor on the same topic.
        keep: (a) => anchorsOfLedger([a], ledgerId).length > 0,
        logger,
        ...(anchoring.readTimeoutMs !== undefined ? { readTimeoutMs: anchoring.readTimeoutMs } : {}),
      });
      cleanups.push(closeFollower);
      void follower.start();
    }
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    if (anchoring && (anchoring.topic || anchoring.file))
      anchor = new CheckpointAnchor(producer, anchoring.topic ? topics.checkpoints : null, anchoring.file ?? null, ledgerId);
    const replayProducer = kafka.producer({
      transactionalId: `${AUDIT_REPLAY_TRANSACTIONAL_ID_PREFIX}${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await replayProducer.connect();
    cleanups.push(() => replayProducer.disconnect());

    const groupId = opts.groupId ?? 'audit-logger';
    const parkedTopic = topics.parkedFor(PARKING_SERVICES.auditLogger);
    const safety = new ConsumerSafety({
      kafka,
      service: PARKING_SERVICES.auditLogger,
      groupId,
      topics: [topics.audit],
      parkedTopic,
      settings: opts.consumerSafety ?? DEFAULT_CONSUMER_SAFETY,
      logger,
      metrics: observe.metrics,
      health: observe.health,
      // The placeholder goes where the record would have: the consumer's current ledger topic label.
      afterPark: async (record, letter) =>
        void (await writer.appendParked(consumer.ledgerTopic, record.partition, record.offset, record.value, letter)),
    });
    cleanups.push(() => safety.close());
    const forged = observe.metrics.counter('audit_forged_events_total', 'Audit events parked as forged (bad signature or emitter)');
    const screen = opts.eventKeyring
      ? // Parked on the audit logger's own dead-letter topic: its principal may write nothing else
        // (alerts.dead-letter is the gate's), and a refused park would stop the ingest.
        { keyring: opts.eventKeyring, producer, deadLetterTopic: parkedTopic, onForged: () => forged.inc() }
      : undefined;
    if (!screen) logger.warn('no event public keys: audit event signatures are not checked');
    const consumer: AuditIngestConsumer = new AuditIngestConsumer(
      kafka,
      topics.audit,
      groupId,
      writer,
      logger,
      safety.guard,
      pool,
      screen,
      opts.ingestClaimWaitMs,
    );
    observe.health.register({
      name: 'audit-ingest',
      check: async () => {
        if (consumer.failure) throw consumer.failure;
      },
    });
    // Closed before the safety net and the producer (cleanups run in reverse).
    cleanups.push(() => consumer.stop());
    await consumer.start();

    const timer = setInterval(() => {
      writer.checkpointNow().catch((err: unknown) => logger.error({ err }, 'checkpoint failed'));
    }, opts.checkpointEveryMs ?? 10_000);
    timer.unref();
    // Last step on close: sign whatever the ingest added since the last checkpoint.
    cleanups.push(async () => {
      clearInterval(timer);
      await writer.checkpointNow();
    });

    // On close the follower is the first to start closing and is awaited (above) only after the
    // ingest and the producers: its consumer's disconnect waits out the fetch long-poll in flight
    // (up to 5 s), as the ingest's does; one after the other they would add up.
    cleanups.push(async () => void closeFollower());

    const trustedKeys = new Map([[signingKey.keyId, signingKey.publicKey]]);
    const context: AuditLoggerContext = {
      pool,
      producer,
      replayProducer,
      topics,
      trustedKeys,
      policiesDir: resolve(opts.policiesDir ?? process.env['POLICIES_DIR'] ?? 'policies'),
      eventSigningKey: opts.eventSigningKey ?? config.eventSigner,
      eventKeyring: opts.eventKeyring ?? null,
      readAnchors: async (onExtent) => {
        try {
          if (!anchoring) return null;
          const fromFile = anchoring.file ? readAnchorsFromFile(anchoring.file) : [];
          const fromTopic = follower ? await follower.read(onExtent) : [];
          // Only this ledger's (before merging by seq): other ledgers on the broker anchor on the same topic.
          const mine = (list: Anchor[]): Anchor[] => anchorsOfLedger(list, ledgerId);
          return { anchors: mergeAnchors(mine(fromFile), mine(fromTopic)), maxUnanchoredTail: anchoring.maxUnanchoredTail };
        } finally {
          // Whatever happened, verify must not wait for an extent that will never be fixed.
          onExtent?.();
        }
      },
    };
    const anchorGroupId = follower?.groupId ?? null;
    return { context, pool, writer, consumer, safety, parkedTopic, producer, signingKey, anchorGroupId, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
