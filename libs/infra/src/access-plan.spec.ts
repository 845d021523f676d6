import { describe, expect, it } from '@jest/globals';
import { topicNames, SUBMITTED_PARTITIONS } from '@backbone/kafka';
import { accessPlan, isManagedPrincipal, type AclRule } from './access-plan.js';

const names = topicNames();
const plan = accessPlan(['FR-NCB', 'DE-NCB']);
const rulesOf = (principal: string): string[] =>
  plan.acls
    .filter((r) => r.principal === principal)
    .map((r: AclRule) => `${r.operation} ${r.resourceType}:${r.patternType}:${r.resourceName}`)
    .sort();

const sorted = (xs: string[]): string[] => [...xs].sort();

describe('accessPlan', () => {
  it('has one principal per service and per agency, never admin', () => {
    expect(plan.principals).toEqual(['notice-publisher', 'policy-gate', 'audit-logger', 'subscriber-FR-NCB', 'subscriber-DE-NCB']);
  });

  it('creates the shared topics, one feed per agency and one dead-letter topic per consuming service', () => {
    expect(plan.topics.map((t) => t.name)).toEqual([
      names.submitted,
      names.deadLetter,
      names.audit,
      names.checkpoints,
      names.parkedFor('audit-logger'),
      names.feedFor('FR-NCB'),
      names.parkedFor('subscriber-FR-NCB'),
      names.feedFor('DE-NCB'),
      names.parkedFor('subscriber-DE-NCB'),
    ]);
    expect(plan.topics[0]?.partitions).toBe(SUBMITTED_PARTITIONS);
    expect(plan.topics.every((t) => t.partitions >= 1)).toBe(true);
  });

  it('lets only the audit logger write (and read) the checkpoint anchors', () => {
    const writers = plan.acls.filter((r) => r.resourceName === names.checkpoints && r.operation === 'WRITE').map((r) => r.principal);
    expect(writers).toEqual(['audit-logger']);
    expect(plan.acls.filter((r) => r.resourceName === names.checkpoints).every((r) => r.principal === 'audit-logger')).toBe(true);
  });

  it('lets the publisher only write the inbound and audit topics, and read the inbound one to reconcile', () => {
    expect(rulesOf('notice-publisher')).toEqual(
      sorted([
        `DESCRIBE TOPIC:LITERAL:${names.audit}`,
        'READ GROUP:PREFIXED:notice-publisher-reconcile-',
        `READ TOPIC:LITERAL:${names.submitted}`,
        `DESCRIBE TOPIC:LITERAL:${names.submitted}`,
        'DESCRIBE TRANSACTIONAL_ID:PREFIXED:notice-publisher-',
        'IDEMPOTENT_WRITE CLUSTER:LITERAL:kafka-cluster',
        `WRITE TOPIC:LITERAL:${names.audit}`,
        `WRITE TOPIC:LITERAL:${names.submitted}`,
        'WRITE TRANSACTIONAL_ID:PREFIXED:notice-publisher-',
      ]),
    );
  });

  it('lets a subscriber read only its own feed, with its own group, write audit events and park on its own dead-letter topic', () => {
    expect(rulesOf('subscriber-FR-NCB')).toEqual(
      sorted([
        `DESCRIBE TOPIC:LITERAL:${names.audit}`,
        `DESCRIBE TOPIC:LITERAL:${names.feedFor('FR-NCB')}`,
        `DESCRIBE TOPIC:LITERAL:${names.parkedFor('subscriber-FR-NCB')}`,
        'READ GROUP:LITERAL:subscriber-FR-NCB',
        `READ TOPIC:LITERAL:${names.feedFor('FR-NCB')}`,
        `WRITE TOPIC:LITERAL:${names.audit}`,
        `WRITE TOPIC:LITERAL:${names.parkedFor('subscriber-FR-NCB')}`,
      ]),
    );
  });

  it('gives feed WRITE only to the gate and the audit logger, and audit READ only to the audit logger', () => {
    const writersOfFeeds = new Set(
      plan.acls.filter((r) => r.operation === 'WRITE' && r.resourceName.startsWith(names.feedPrefix)).map((r) => r.principal),
    );
    expect([...writersOfFeeds].sort()).toEqual(['audit-logger', 'policy-gate']);
    const auditReaders = plan.acls.filter((r) => r.operation === 'READ' && r.resourceName === names.audit).map((r) => r.principal);
    expect(auditReaders).toEqual(['audit-logger']);
  });

  it('never grants wildcard resources, ALL, or cluster-level alteration', () => {
    for (const r of plan.acls) {
      expect(r.resourceName).not.toBe('*');
      expect(['READ', 'WRITE', 'DESCRIBE', 'IDEMPOTENT_WRITE']).toContain(r.operation);
      if (r.resourceType === 'CLUSTER') expect(r.operation).toBe('IDEMPOTENT_WRITE');
    }
  });

  it('scopes the gate to its group and transactional-id prefix', () => {
    expect(rulesOf('policy-gate')).toEqual(
      expect.arrayContaining([
        'READ GROUP:LITERAL:policy-gate',
        'WRITE TRANSACTIONAL_ID:PREFIXED:policy-gate',
        `READ TOPIC:LITERAL:${names.submitted}`,
      ]),
    );
  });

  it('follows the registry: a removed agency leaves no principal or rule behind', () => {
    const smaller = accessPlan(['FR-NCB']);
    expect(smaller.principals).not.toContain('subscriber-DE-NCB');
    expect(smaller.acls.some((r) => r.principal === 'subscriber-DE-NCB' || r.resourceName.endsWith('DE-NCB'))).toBe(false);
  });

  it('knows which principals it owns', () => {
    expect(isManagedPrincipal('policy-gate')).toBe(true);
    expect(isManagedPrincipal('subscriber-XX-NCB')).toBe(true);
    expect(isManagedPrincipal('admin')).toBe(false);
    expect(isManagedPrincipal('someone-else')).toBe(false);
  });
});
