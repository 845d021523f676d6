import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// kafkajs is CommonJS whose exports Node's ESM loader cannot list: named value imports fail outside jest.
import kafkajs from 'kafkajs';
import type { AclEntry, AclFilter, Admin } from 'kafkajs';
import { createTopicsAndWait } from '@backbone/kafka';

import { accessPlan, aclKey, isManagedPrincipal, type AccessPlan, type AclRule } from './access-plan.js';
import { brokerCommand, type BrokerOptions } from './broker.js';
import { kafkaConnection } from './credentials.js';
import { backboneHome, kafkaStateDir, repoRoot } from './paths.js';
import { readAgencyCodes } from './registry.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } = kafkajs;

export interface BootstrapOptions extends BrokerOptions {
  /** Re-apply even when the registry and cluster are unchanged since the last successful run. */
  force?: boolean;
}

export interface AccessReport {
  agencies: string[];
  principalsCreated: string[];
  principalsDeleted: string[];
  topicsCreated: string[];
  aclsCreated: number;
  aclsDeleted: number;
  /** True when nothing was checked because the registry and cluster matched the last run. */
  skipped: boolean;
}

const USER = 'User:';

/**
 * Makes the broker's principals, topics and ACLs match the registry: a new agency gets its principal,
 * feed topic and ACLs; a removed one loses its SCRAM user and ACLs (its feed topic is kept, readable by
 * admin only, because deleting an agency's received alerts is a compliance decision, not a side effect).
 * Idempotent; needs the broker up (see ensureBroker).
 */
export async function bootstrapAccess(
  registryPath: string = join(repoRoot(), 'policies', 'registry.yaml'),
  opts: BootstrapOptions = {},
): Promise<AccessReport> {
  const home = opts.home ?? backboneHome();
  const agencies = readAgencyCodes(registryPath);
  const plan = accessPlan(agencies);
  const stampFile = join(kafkaStateDir(home), 'access.stamp');
  const stamp = createHash('sha256')
    .update(JSON.stringify(plan))
    .update(readFileSync(join(kafkaStateDir(home), 'cluster.env')))
    .digest('hex');
  const report: AccessReport = {
    agencies,
    principalsCreated: [],
    principalsDeleted: [],
    topicsCreated: [],
    aclsCreated: 0,
    aclsDeleted: 0,
    skipped: false,
  };
  if (!opts.force && readStamp(stampFile) === stamp) return { ...report, skipped: true };

  const users = JSON.parse(await brokerCommand(['sync-users', ...plan.principals], { ...opts, home })) as {
    created: string[];
    deleted: string[];
  };
  report.principalsCreated = users.created;
  report.principalsDeleted = users.deleted;

  const kafka = new Kafka({ clientId: 'backbone-infra-bootstrap', ...kafkaConnection('admin', { home }), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    report.topicsCreated = await ensureTopics(admin, plan);
    const { created, deleted } = await reconcileAcls(admin, plan, new Set(users.deleted));
    report.aclsCreated = created;
    report.aclsDeleted = deleted;
  } finally {
    await admin.disconnect();
  }
  writeFileSync(stampFile, `${stamp}\n`, { mode: 0o600 });
  return report;
}

/** Gives a principal a new random password, on the broker and in credentials.json. Services using it must restart. */
export async function rotateCredential(principal: string, opts: BrokerOptions = {}): Promise<void> {
  await brokerCommand(['rotate', principal], opts);
}

function readStamp(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

async function ensureTopics(admin: Admin, plan: AccessPlan): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = plan.topics.filter((t) => !existing.has(t.name));
  if (missing.length > 0) {
    // Replication factor and min ISR come from the broker defaults, so 1-node and 3-node clusters differ only there.
    // Our own wait for leaders: KafkaJS's fails on a just-formatted broker (UNKNOWN_TOPIC_OR_PARTITION).
    await createTopicsAndWait(
      admin,
      missing.map((t) => ({ topic: t.name, numPartitions: t.partitions })),
    );
  }
  const present = plan.topics.filter((t) => existing.has(t.name));
  if (present.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    const grow = present.filter((t) => (meta.topics.find((m) => m.name === t.name)?.partitions.length ?? t.partitions) < t.partitions);
    if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow.map((t) => ({ topic: t.name, count: t.partitions })) });
  }
  return missing.map((t) => t.name);
}

const RESOURCE = {
  TOPIC: AclResourceTypes.TOPIC,
  GROUP: AclResourceTypes.GROUP,
  CLUSTER: AclResourceTypes.CLUSTER,
  TRANSACTIONAL_ID: AclResourceTypes.TRANSACTIONAL_ID,
} as const;
const OPERATION = {
  READ: AclOperationTypes.READ,
  WRITE: AclOperationTypes.WRITE,
  DESCRIBE: AclOperationTypes.DESCRIBE,
  IDEMPOTENT_WRITE: AclOperationTypes.IDEMPOTENT_WRITE,
} as const;
const PATTERN = { LITERAL: ResourcePatternTypes.LITERAL, PREFIXED: ResourcePatternTypes.PREFIXED } as const;

function toKafkaAcl(rule: AclRule): AclEntry {
  return {
    resourceType: RESOURCE[rule.resourceType],
    resourceName: rule.resourceName,
    resourcePatternType: PATTERN[rule.patternType],
    principal: `${USER}${rule.principal}`,
    host: '*',
    operation: OPERATION[rule.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

function invert<T extends Record<string, number>>(m: T): Map<number, keyof T> {
  return new Map(Object.entries(m).map(([k, v]) => [v, k as keyof T]));
}
const RESOURCE_NAME = invert(RESOURCE);
const OPERATION_NAME = invert(OPERATION);
const PATTERN_NAME = invert(PATTERN);

async function reconcileAcls(admin: Admin, plan: AccessPlan, deletedUsers: Set<string>): Promise<{ created: number; deleted: number }> {
  const current = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  const wanted = new Map(plan.acls.map((r) => [aclKey(r), r]));
  const have = new Set<string>();
  const stale: AclFilter[] = [];
  for (const resource of current.resources) {
    for (const acl of resource.acls) {
      const principal = acl.principal.startsWith(USER) ? acl.principal.slice(USER.length) : acl.principal;
      if (!isManagedPrincipal(principal) && !deletedUsers.has(principal)) continue;
      const resourceType = RESOURCE_NAME.get(resource.resourceType);
      const patternType = PATTERN_NAME.get(resource.resourcePatternType);
      const operation = OPERATION_NAME.get(acl.operation);
      const exact: AclFilter = {
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
        resourcePatternType: resource.resourcePatternType,
        principal: acl.principal,
        host: acl.host,
        operation: acl.operation,
        permissionType: acl.permissionType,
      };
      // Anything the plan would not write (a DENY, a host restriction, an operation it never grants) is stale too.
      if (resourceType && patternType && operation && acl.host === '*' && acl.permissionType === AclPermissionTypes.ALLOW) {
        const key = aclKey({ principal, resourceType, resourceName: resource.resourceName, patternType, operation });
        if (wanted.has(key)) {
          have.add(key);
          continue;
        }
      }
      stale.push(exact);
    }
  }
  const missing = [...wanted.entries()].filter(([k]) => !have.has(k)).map(([, r]) => toKafkaAcl(r));
  if (missing.length > 0) await admin.createAcls({ acl: missing });
  if (stale.length > 0) await admin.deleteAcls({ filters: stale });
  return { created: missing.length, deleted: stale.length };
}
