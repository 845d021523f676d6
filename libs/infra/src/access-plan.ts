import { PARKING_SERVICES, SUBMITTED_PARTITIONS, topicNames, type TopicNames } from '@backbone/kafka';

/** Kafka principals (SCRAM user names) of the services. */
export const SERVICE_PRINCIPALS = {
  publisher: 'notice-publisher',
  gate: 'policy-gate',
  auditLogger: 'audit-logger',
} as const;

export const ADMIN_PRINCIPAL = 'admin';

export function subscriberPrincipal(agencyCode: string): string {
  return `subscriber-${agencyCode}`;
}

/** Consumer group ids the ACLs allow; a service must use exactly these. */
export const CONSUMER_GROUPS = {
  gate: 'policy-gate',
  auditLogger: 'audit-logger',
  /** Prefix of the group the audit logger follows its checkpoint anchors with (one per process start, never committed). */
  auditLoggerAnchors: 'audit-logger-anchors-',
  subscriber: (agencyCode: string): string => `subscriber-${agencyCode}`,
} as const;

/** The gate's transactional ids must start with this (one per gate instance, e.g. `policy-gate-<n>`). */
export const GATE_TRANSACTIONAL_ID_PREFIX = 'policy-gate';
/** The publisher commits each alert with its SUBMITTED audit event in one transaction, per replica id. */
export const PUBLISHER_TRANSACTIONAL_ID_PREFIX = 'notice-publisher-';
/** The audit logger's replay commits deliveries with their REPLAYED events in one transaction, per process. */
export const AUDIT_REPLAY_TRANSACTIONAL_ID_PREFIX = 'audit-logger-replay-';
/** The publisher's reconciler reads alerts.submitted (read_committed) with throw-away groups of this prefix. */
export const PUBLISHER_RECONCILE_GROUP_PREFIX = 'notice-publisher-reconcile-';

export const FEED_PARTITIONS = 3;
export const AUDIT_PARTITIONS = 6;
export const DEAD_LETTER_PARTITIONS = 3;

export type AclResource = 'TOPIC' | 'GROUP' | 'CLUSTER' | 'TRANSACTIONAL_ID';
export type AclPattern = 'LITERAL' | 'PREFIXED';
export type AclOperation = 'READ' | 'WRITE' | 'DESCRIBE' | 'IDEMPOTENT_WRITE';

/** One ALLOW rule for any host. Nothing is ever granted by DENY-less default: the broker denies what is not listed. */
export interface AclRule {
  principal: string;
  resourceType: AclResource;
  resourceName: string;
  patternType: AclPattern;
  operation: AclOperation;
}

export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface AccessPlan {
  /** Every principal except admin, which is bootstrapped at format time. */
  principals: string[];
  topics: TopicSpec[];
  acls: AclRule[];
}

const CLUSTER = 'kafka-cluster';

/** True for principal names the bootstrap owns: their ACLs are removed when they leave the plan. */
export function isManagedPrincipal(name: string): boolean {
  return (Object.values(SERVICE_PRINCIPALS) as string[]).includes(name) || name.startsWith('subscriber-');
}

/** Least-privilege access for the services and one subscriber per agency; pure, so it is unit-tested as data. */
export function accessPlan(agencyCodes: readonly string[], names: TopicNames = topicNames()): AccessPlan {
  const acls: AclRule[] = [];
  const allow = (
    principal: string,
    resourceType: AclResource,
    resourceName: string,
    patternType: AclPattern,
    ...ops: AclOperation[]
  ): void => {
    for (const operation of ops) acls.push({ principal, resourceType, resourceName, patternType, operation });
  };
  const { publisher, gate, auditLogger } = SERVICE_PRINCIPALS;

  allow(publisher, 'TOPIC', names.submitted, 'LITERAL', 'WRITE', 'DESCRIBE');
  allow(publisher, 'TOPIC', names.audit, 'LITERAL', 'WRITE', 'DESCRIBE');
  allow(publisher, 'CLUSTER', CLUSTER, 'LITERAL', 'IDEMPOTENT_WRITE');
  allow(publisher, 'TRANSACTIONAL_ID', PUBLISHER_TRANSACTIONAL_ID_PREFIX, 'PREFIXED', 'WRITE', 'DESCRIBE');
  // The reconciler asks Kafka whether a version left pending by a crash was committed.
  allow(publisher, 'TOPIC', names.submitted, 'LITERAL', 'READ');
  allow(publisher, 'GROUP', PUBLISHER_RECONCILE_GROUP_PREFIX, 'PREFIXED', 'READ');

  allow(gate, 'TOPIC', names.submitted, 'LITERAL', 'READ', 'DESCRIBE');
  allow(gate, 'TOPIC', names.feedPrefix, 'PREFIXED', 'WRITE', 'DESCRIBE');
  allow(gate, 'TOPIC', names.deadLetter, 'LITERAL', 'WRITE', 'DESCRIBE');
  allow(gate, 'TOPIC', names.audit, 'LITERAL', 'WRITE', 'DESCRIBE');
  allow(gate, 'GROUP', CONSUMER_GROUPS.gate, 'LITERAL', 'READ');
  allow(gate, 'TRANSACTIONAL_ID', GATE_TRANSACTIONAL_ID_PREFIX, 'PREFIXED', 'WRITE', 'DESCRIBE');
  allow(gate, 'CLUSTER', CLUSTER, 'LITERAL', 'IDEMPOTENT_WRITE');

  allow(auditLogger, 'TOPIC', names.audit, 'LITERAL', 'READ', 'DESCRIBE');
  allow(auditLogger, 'GROUP', CONSUMER_GROUPS.auditLogger, 'LITERAL', 'READ');
  // Audited replay re-delivers past alerts to a feed.
  allow(auditLogger, 'TOPIC', names.feedPrefix, 'PREFIXED', 'WRITE', 'DESCRIBE');
  // Reads of the audit log are themselves audited (audit-accessed events).
  allow(auditLogger, 'TOPIC', names.audit, 'LITERAL', 'WRITE');
  // Checkpoint anchors: the audit logger alone writes them, and reads them back to verify.
  allow(auditLogger, 'TOPIC', names.checkpoints, 'LITERAL', 'WRITE', 'READ', 'DESCRIBE');
  allow(auditLogger, 'GROUP', CONSUMER_GROUPS.auditLoggerAnchors, 'PREFIXED', 'READ');
  // Records the ledger can never store are parked on the audit logger's own dead-letter topic.
  allow(auditLogger, 'TOPIC', names.parkedFor(PARKING_SERVICES.auditLogger), 'LITERAL', 'WRITE', 'DESCRIBE');
  allow(auditLogger, 'TRANSACTIONAL_ID', AUDIT_REPLAY_TRANSACTIONAL_ID_PREFIX, 'PREFIXED', 'WRITE', 'DESCRIBE');
  allow(auditLogger, 'CLUSTER', CLUSTER, 'LITERAL', 'IDEMPOTENT_WRITE');

  const topics: TopicSpec[] = [
    { name: names.submitted, partitions: SUBMITTED_PARTITIONS },
    { name: names.deadLetter, partitions: DEAD_LETTER_PARTITIONS },
    { name: names.audit, partitions: AUDIT_PARTITIONS },
    // One partition: anchors are read back in order.
    { name: names.checkpoints, partitions: 1 },
    { name: names.parkedFor(PARKING_SERVICES.auditLogger), partitions: DEAD_LETTER_PARTITIONS },
  ];
  const principals: string[] = [publisher, gate, auditLogger];
  for (const code of agencyCodes) {
    const sub = subscriberPrincipal(code);
    principals.push(sub);
    topics.push({ name: names.feedFor(code), partitions: FEED_PARTITIONS });
    allow(sub, 'TOPIC', names.feedFor(code), 'LITERAL', 'READ', 'DESCRIBE');
    allow(sub, 'GROUP', CONSUMER_GROUPS.subscriber(code), 'LITERAL', 'READ');
    allow(sub, 'TOPIC', names.audit, 'LITERAL', 'WRITE', 'DESCRIBE');
    // Its own dead-letter topic only: one agency's parked records are not another's to read or write.
    topics.push({ name: names.parkedFor(PARKING_SERVICES.subscriber(code)), partitions: DEAD_LETTER_PARTITIONS });
    allow(sub, 'TOPIC', names.parkedFor(PARKING_SERVICES.subscriber(code)), 'LITERAL', 'WRITE', 'DESCRIBE');
  }
  return { principals, topics, acls: dedupe(acls) };
}

export function aclKey(rule: AclRule): string {
  return [rule.principal, rule.resourceType, rule.patternType, rule.resourceName, rule.operation].join('|');
}

function dedupe(rules: AclRule[]): AclRule[] {
  const seen = new Map<string, AclRule>();
  for (const r of rules) seen.set(aclKey(r), r);
  return [...seen.values()];
}
