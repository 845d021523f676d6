import { hostname } from 'node:os';
import { loadConfig, settings, type ConfigOf } from '@backbone/bootstrap';

/** The gate's own settings (HOST/PORT/LOG_LEVEL come from SERVICE_SETTINGS, Kafka from KAFKA_SETTINGS). */
export const GATE_SETTINGS = {
  GATE_INSTANCE_ID: settings.string({
    description:
      'Id of this gate instance, naming only the hold-release producer (policy-gate-<id>-release); unset: the host name. ' +
      'The consumer loop uses one transactional id per input partition, so instances never fence each other over it.',
    default: '',
    pattern: /^[A-Za-z0-9._-]{0,100}$/,
  }),
  GATE_GROUP_ID: settings.string({
    description: 'Consumer group shared by every gate instance',
    default: 'policy-gate',
    pattern: /^[A-Za-z0-9._-]{1,200}$/,
  }),
  POLICIES_DIR: settings.string({ description: 'Directory holding registry.yaml and rules/<version>.yaml', default: 'policies' }),
  POLICY_VERSION: settings.optionalString({ description: 'Policy version to enforce; unset: the newest in POLICIES_DIR/rules' }),
  GATE_MAX_BATCH_RECORDS: settings.int({
    description: 'Most inbound records decided and committed in one Kafka transaction',
    default: 500,
    min: 1,
    max: 10_000,
  }),
  GATE_MAX_BYTES_PER_PARTITION: settings.int({
    description: 'Most bytes fetched per partition per fetch (bounds memory per batch)',
    default: 1_048_576,
    min: 1024,
    max: 104_857_600,
  }),
  GATE_PARTITIONS_CONCURRENTLY: settings.int({
    description:
      'Input partitions decided and committed at the same time, each in its own transaction with its own producer ' +
      '(KafkaJS partitionsConsumedConcurrently); the PostgreSQL pool gets one connection per partition in flight, plus two',
    default: 8,
    min: 1,
    max: 64,
  }),
  GATE_TXN_RETRIES: settings.int({
    description: 'Attempts at a transaction that fails with a retriable error before the batch is left for redelivery',
    default: 5,
    min: 0,
    max: 50,
  }),
  DATABASE_URL: settings.optionalString({
    description: 'PostgreSQL for recipient history, decisions and holds; unset: the local or embedded server',
    sensitive: true,
  }),
} as const;

export type GateSettings = ConfigOf<typeof GATE_SETTINGS>;

export function loadGateSettings(env: NodeJS.ProcessEnv = process.env): GateSettings {
  return loadConfig(GATE_SETTINGS, env);
}

export function transactionalIdFor(instanceId: string): string {
  return `policy-gate-${instanceId}`;
}

/** GATE_INSTANCE_ID, or the host name (distinct per pod or machine) made to fit the id pattern. */
export function gateInstanceId(configured: string, host: string = hostname()): string {
  if (configured !== '') return configured;
  return host.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100) || 'gate';
}

/**
 * The transactional id of the gate's producer for one input partition: stable across instances,
 * so whichever instance owns the partition holds it, and taking the partition over fences the
 * previous owner (the pre-KIP-447 pattern; KafkaJS has no KIP-447). Starts with policy-gate-,
 * the prefix the gate principal's ACL allows.
 */
export function partitionTransactionalIdFor(groupId: string, topic: string, partition: number): string {
  return `policy-gate-${groupId}-${topic}-${partition}`;
}
