// The whole backbone, every service started for real against the real broker and database:
// a liaison office publishes over HTTP; the gate decides; each agency's subscriber stores what
// its feed carries; desks see exactly what the policy and their own filters allow; compliance
// staff read the trail and replay a feed, which the subscriber takes without duplicating.
import 'reflect-metadata';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, startService, type RunningService } from '@backbone/bootstrap';
import { deliveryCodec, type Alert } from '@backbone/codec';
import { sampleAlert } from '@backbone/codec/testing';
import { KafkaConfig, SUBMITTED_PARTITIONS, topicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { compilePolicy, decide, loadPolicy, loadRegistry } from '@backbone/policy';
import { alertInput, createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { startTestSubscriber, type RunningAgencySubscriber } from '../apps/agency-subscriber/src/subscriber.test-kit.js';
import type { AuditLedgerRuntime } from '../apps/audit-logger/src/audit-ledger.runtime.js';
import { AUDIT_RUNTIME, AuditLoggerModule } from '../apps/audit-logger/src/audit-logger.module.js';
import { COMPLIANCE_REPLAYER_ROLE, issueComplianceUser, provisionLedger } from '@backbone/ledger';
import { PublisherConfig } from '../apps/notice-publisher/src/config/publisher.config.js';
import { CredentialStore, openPublisherDatabase } from '@backbone/office-store';
import { NoticePublisherModule } from '../apps/notice-publisher/src/notice-publisher.module.js';
import { startTestGate, type TestGate } from '../apps/policy-gate/src/testing/gate-test.harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const POLICIES = join(ROOT, 'policies');
/** Agencies chosen so the shipped policy both allows (EU, agreement) and denies (no transfer basis). */
const AGENCIES = ['DE-NCB', 'US-NCB', 'BR-NCB', 'JP-NCB'] as const;

interface DeskUnderTest {
  agency: string;
  name: string;
  token: string;
  filter: { regions?: readonly string[]; noticeTypes?: readonly string[] };
}

describe('backbone end to end', () => {
  const prefix = `${uniqueName('e2e')}.`;
  const topics = topicNames(prefix);
  // Every registry agency has a feed topic, as `infra up` creates them: the gate writes every allowed one.
  const registryCodes = loadRegistry(join(fileURLToPath(new URL('..', import.meta.url)), 'policies', 'registry.yaml')).agencies.map(
    (a) => a.code,
  );
  const allTopics = [topics.submitted, topics.audit, topics.deadLetter, ...registryCodes.map((a) => topics.feedFor(a))];
  const logger = createLogger('e2e', 'warn');
  const admin = testKafka('admin', uniqueName('e2e-admin')).admin();
  let db: TestDatabase;
  let publisher: RunningService;
  let publisherUrl: string;
  let gate: TestGate;
  let audit: RunningService;
  const subscribers = new Map<string, RunningAgencySubscriber>();
  const desks: DeskUnderTest[] = [];
  let officeToken: string;
  let complianceToken: string;

  beforeAll(async () => {
    await admin.connect();
    await createTopics(admin, [topics.submitted], SUBMITTED_PARTITIONS);
    await createTopics(
      admin,
      allTopics.filter((t) => t !== topics.submitted),
      3,
    );
    db = await createTestDatabase({ label: 'e2e' });
    const connection = testKafkaConnection('admin');

    const publisherDb = await openPublisherDatabase(db.url, 2);
    officeToken = (await new CredentialStore(publisherDb).issue('FR-NCB')).token;
    await publisherDb.destroy();
    // Every service starts through the one start-up function, as its main.ts does.
    publisher = await startService({
      name: 'notice-publisher',
      module: NoticePublisherModule.forRoot({
        kafka: KafkaConfig.of(connection, prefix),
        config: PublisherConfig.of({ PORT: 0, DATABASE_URL: db.url, POLICIES_DIR: POLICIES, PUBLISH_FLUSH_INTERVAL_MS: 2 }),
      }),
      logger,
      port: 0,
      shutdownHooks: false,
    });
    publisherUrl = publisher.url;

    gate = await startTestGate({
      kafka: connection,
      databaseUrl: db.url,
      prefix,
      policiesDir: POLICIES,
      instanceId: uniqueName('e2e'),
      groupId: uniqueName('e2e-gate'),
      logger,
    });
    audit = await startService({
      name: 'audit-logger',
      module: AuditLoggerModule.forRoot({
        kafka: connection,
        databaseUrl: await provisionLedger(db.url),
        prefix,
        groupId: uniqueName('e2e-audit'),
        policiesDir: POLICIES,
        signingKeyFile: join(ROOT, '.backbone', 'test-results', `${uniqueName('e2e-key')}.pem`),
      }),
      logger,
      port: 0,
      shutdownHooks: false,
    });
    // Trail and replay: the replayer role also reads.
    complianceToken = (
      await issueComplianceUser(audit.app.get<AuditLedgerRuntime>(AUDIT_RUNTIME).pool, 'e2e-compliance', COMPLIANCE_REPLAYER_ROLE)
    ).token;

    for (const agency of AGENCIES) {
      const sub = await startTestSubscriber({
        agency,
        kafka: connection,
        databaseUrl: db.url,
        prefix,
        groupId: uniqueName(`e2e-${agency}`),
        port: 0,
        logger,
      });
      subscribers.set(agency, sub);
      // Every agency has a catch-all desk and a Europe/RED desk; DE also has a desk that must not match.
      for (const [name, filter] of [
        ['all', {}],
        ['europe-red', { regions: ['EUROPE'], noticeTypes: ['RED'] }],
        ...(agency === 'DE-NCB' ? [['americas-yellow', { regions: ['AMERICAS'], noticeTypes: ['YELLOW'] }] as const] : []),
      ] as const) {
        const created = await sub.desks.create(name, {
          ...('regions' in filter ? { regions: [...filter.regions], noticeTypes: [...filter.noticeTypes] } : {}),
        });
        desks.push({ agency, name, token: created.token, filter });
      }
    }
  }, 180_000);

  afterAll(async () => {
    for (const sub of subscribers.values()) await sub.close().catch(() => undefined);
    await audit?.close().catch(() => undefined);
    await gate?.close().catch(() => undefined);
    await publisher?.close().catch(() => undefined);
    await deleteTopics(admin, allTopics).catch(() => undefined);
    await admin.disconnect();
    await db?.drop().catch(() => undefined);
  }, 120_000);

  const inboxOf = async (desk: DeskUnderTest): Promise<{ alertId: string; version: number; redactedGroups: string[] }[]> => {
    const res = await fetch(`${subscribers.get(desk.agency)!.url}/inbox`, { headers: { authorization: `Bearer ${desk.token}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: { alertId: string; version: number; redactedGroups: string[] }[] }).items;
  };

  const publish = async (body: Record<string, unknown>): Promise<{ alertId: string; version: number }> => {
    const res = await fetch(`${publisherUrl}/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${officeToken}`, 'content-type': 'application/json', 'idempotency-key': uniqueName('e2e-key') },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { alertId: string; version: number };
    expect(res.status).toBe(201);
    return json;
  };

  /** Where the audit logger's replayed copies of `id` sit on a feed, read as any committed reader would. */
  const replayedOffsets = async (feed: string, id: string): Promise<{ partition: number; offset: number }[]> => {
    const found: { partition: number; offset: number }[] = [];
    const reader = testKafka('admin', uniqueName('e2e-reader')).consumer({ groupId: uniqueName('e2e-reader'), readUncommitted: false });
    await reader.connect();
    try {
      await reader.subscribe({ topic: feed, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ partition, message }) => {
          const d = deliveryCodec.decode(message.value!);
          if (d.replay && d.alertId === id) found.push({ partition, offset: Number(message.offset) });
        },
      });
      await pollUntil(async () => found.length > 0, {
        description: `a replayed delivery of ${id} on ${feed}`,
        timeoutMs: 30_000,
        intervalMs: 100,
      });
    } finally {
      await reader.disconnect();
    }
    return found;
  };

  let alertId = '';
  let expectedAgencies: string[] = [];

  it('delivers a published red notice to exactly the desks the policy and their filters allow', async () => {
    const published = await publish(
      alertInput({
        subject: {
          familyName: 'DUPONT',
          forenames: 'Jean',
          nationalities: ['FR'],
          biometrics: { fingerprintRefs: ['FP-1'], photoRefs: [] },
          identityDocuments: [{ kind: 'PASSPORT', number: '12AB34567', issuingCountry: 'FR' }],
        },
      }),
    );
    alertId = published.alertId;

    // The oracle is the engine itself, fed the alert exactly as the publisher recorded it.
    const registry = loadRegistry(join(POLICIES, 'registry.yaml'));
    const compiled = compilePolicy(registry, loadPolicy(POLICIES));
    // The same content as published; the server-assigned fields do not change the decision.
    const asSubmitted: Alert = sampleAlert({
      alertId,
      urgency: 'Immediate',
      sent: new Date(),
      expires: new Date(Date.now() + 7 * 86_400_000),
      area: { description: 'Schengen area', countries: ['FR', 'DE'] },
    });
    const outcomes = decide(asSubmitted, compiled, new Date()).outcomes;
    expectedAgencies = AGENCIES.filter((a) => ['ALLOW', 'ALLOW_WITH_OBLIGATIONS'].includes(outcomes.find((o) => o.agency === a)!.outcome));
    // The scenario is only meaningful when the policy both allows and denies among our agencies.
    expect(expectedAgencies.length).toBeGreaterThan(0);
    expect(expectedAgencies.length).toBeLessThan(AGENCIES.length);

    const shouldSee = (d: DeskUnderTest): boolean =>
      expectedAgencies.includes(d.agency) &&
      (d.filter.regions?.includes('EUROPE') ?? true) &&
      (d.filter.noticeTypes?.includes('RED') ?? true);
    for (const desk of desks.filter(shouldSee)) {
      await pollUntil(async () => (await inboxOf(desk)).some((i) => i.alertId === alertId), {
        description: `${desk.agency}/${desk.name} receives the alert`,
        timeoutMs: 60_000,
        intervalMs: 200,
      });
    }
    // The gate wrote every feed in one transaction: once the allowed ones hold it, any other would too.
    for (const desk of desks.filter((d) => !shouldSee(d))) {
      expect({ desk: `${desk.agency}/${desk.name}`, seen: (await inboxOf(desk)).some((i) => i.alertId === alertId) }).toEqual({
        desk: `${desk.agency}/${desk.name}`,
        seen: false,
      });
    }
    for (const agency of AGENCIES.filter((a) => !expectedAgencies.includes(a))) {
      expect(await subscribers.get(agency)!.inbox.versionCount()).toBe(0);
    }
  }, 120_000);

  it('lets compliance staff see who received it and why, and replays a feed without duplicating the inbox', async () => {
    const compliance = (path: string, init: RequestInit = {}) =>
      fetch(`${audit.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${complianceToken}`, 'content-type': 'application/json' },
      });

    let recipients: { agency: string; outcome: string; deliveredAt: string | null }[] = [];
    await pollUntil(
      async () => {
        const res = await compliance(`/compliance/alerts/${alertId}/trail`);
        if (res.status !== 200) return false;
        recipients = ((await res.json()) as { recipients: typeof recipients }).recipients;
        return expectedAgencies.every((a) => recipients.find((r) => r.agency === a)?.deliveredAt);
      },
      { description: 'the trail shows every allowed agency delivered', timeoutMs: 60_000, intervalMs: 250 },
    );
    for (const agency of AGENCIES) {
      const r = recipients.find((x) => x.agency === agency)!;
      expect(r.outcome === 'DENY').toBe(!expectedAgencies.includes(agency));
    }

    const target = expectedAgencies[0]!;
    const sub = subscribers.get(target)!;
    const before = await sub.inbox.versionCount();
    const res = await compliance('/compliance/replay', {
      method: 'POST',
      body: JSON.stringify({
        agency: target,
        since: new Date(Date.now() - 3_600_000).toISOString(),
        until: new Date(Date.now() + 60_000).toISOString(),
      }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { replayed: number }).replayed).toBeGreaterThanOrEqual(1);
    // The replayed copy reaches the subscriber (its group commits past it) and changes nothing.
    // Committed offsets are compared with the replayed record's own offset, not the high
    // watermark: transaction markers on the feed occupy offsets no consumer ever commits.
    const feed = topics.feedFor(target);
    const replayed = await replayedOffsets(feed, alertId);
    expect(replayed.length).toBeGreaterThanOrEqual(1);
    await pollUntil(
      async () => {
        const committed = await admin.fetchOffsets({ groupId: sub.groupId, topics: [feed] });
        const done = new Map(committed[0]!.partitions.map((p) => [p.partition, Number(p.offset)]));
        return replayed.every((r) => (done.get(r.partition) ?? -1) > r.offset);
      },
      { description: `${target}'s subscriber consumed the replay`, timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(await sub.inbox.versionCount()).toBe(before);
  }, 150_000);
});
