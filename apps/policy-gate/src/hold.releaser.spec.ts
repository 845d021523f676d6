// The order of a release's writes (ADR 0003): recipients committed in PostgreSQL, then the Kafka
// transaction, then the holds marked released. Fakes record the order (no broker, no database);
// the deliveries themselves are tested against the real servers in hold-release.int-spec.ts.
import { describe, expect, it } from '@jest/globals';
import type { Kafka } from 'kafkajs';
import type { EntityManager } from 'typeorm';
import { createLogger } from '@backbone/bootstrap';
import { alertCodec, UnstorableRecordError, type Alert } from '@backbone/codec';
import { sampleAlert } from '@backbone/codec/testing';
import { topicNames } from '@backbone/kafka';
import type { GateRepository, LockedHold } from '@backbone/gate-store';
import { HoldReleaser } from './hold.releaser.js';
import { addressingTestPolicy } from './testing/addressing.test-policy.js';

const ID = '6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f';

function world(alert: Alert, opts: { kafkaFails?: boolean } = {}) {
  const steps: string[] = [];
  const txn = {
    sendBatch: async () => steps.push('kafka:send'),
    commit: async () => {
      if (opts.kafkaFails) throw new Error('broker gone');
      steps.push('kafka:commit');
    },
    abort: async () => steps.push('kafka:abort'),
  };
  const producer = { connect: async () => undefined, disconnect: async () => undefined, transaction: async () => txn };
  const kafka = { producer: () => producer } as unknown as Kafka;
  const holds: LockedHold[] = [{ agency: 'DE-NCB', ruleId: 'review.hold', alert: alertCodec.encode(alert), releasedAt: null }];
  const repository = {
    latestHeldVersion: async () => 1,
    decisionsFor: async () => [],
    withLockedHolds: async (_a: string, _v: number, work: (h: LockedHold[], m: EntityManager) => Promise<unknown>) => {
      const r = await work(holds, {} as EntityManager);
      steps.push('pg:holds-commit');
      return r;
    },
    recordRecipients: async (_a: string, _v: number, agencies: readonly string[]) => steps.push(`pg:recipients ${agencies.join(',')}`),
    markReleased: async () => steps.push('pg:mark-released'),
  } as unknown as GateRepository;
  const releaser = new HoldReleaser({
    kafka,
    topics: topicNames('t.'),
    policy: addressingTestPolicy(['FR-NCB', 'DE-NCB']),
    repository,
    logger: createLogger('test', 'silent'),
    instanceId: 'unit',
  });
  return { releaser, steps };
}

describe('HoldReleaser write order', () => {
  it('commits the recipients in PostgreSQL before the Kafka transaction, and marks the holds after it', async () => {
    const w = world(sampleAlert({ alertId: ID, sent: new Date() }));
    const result = await w.releaser.release({ alertId: ID, releasedBy: 'rev.one' });
    expect(result.released).toEqual(['DE-NCB']);
    // (kafka:abort is the empty transaction that starts the producer, see transactional-producer.ts.)
    expect(w.steps.filter((s) => s !== 'kafka:abort')).toEqual([
      'pg:recipients DE-NCB',
      'kafka:send',
      'kafka:commit',
      'pg:mark-released',
      'pg:holds-commit',
    ]);
  });

  it('leaves the recipients recorded and the holds pending when the Kafka commit fails', async () => {
    const w = world(sampleAlert({ alertId: ID, sent: new Date() }), { kafkaFails: true });
    await expect(w.releaser.release({ alertId: ID, releasedBy: 'rev.one' })).rejects.toThrow('broker gone');
    expect(w.steps).toContain('pg:recipients DE-NCB');
    expect(w.steps).not.toContain('pg:mark-released');
  });

  it('refuses a held record no store can hold, writing nothing', async () => {
    const w = world(sampleAlert({ alertId: ID, sent: new Date(), headline: 'held\u0000' }));
    await expect(w.releaser.release({ alertId: ID, releasedBy: 'rev.one' })).rejects.toThrow(UnstorableRecordError);
    expect(w.steps.filter((s) => s !== 'kafka:abort' && s !== 'pg:holds-commit')).toEqual([]);
  });
});
