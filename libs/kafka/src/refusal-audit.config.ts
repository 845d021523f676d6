import { loadConfig, settings, type ConfigOf } from '@backbone/bootstrap';

/** How refusals of the roles guard are audited and how anonymous callers are limited (docs/operator.md). */
export const REFUSAL_AUDIT_SETTINGS = {
  REFUSAL_AUDIT_TIMEOUT_MS: settings.int({
    description:
      'Longest wait for Kafka to acknowledge the audit event of an identified caller’s refusal before the 401/403 is answered anyway (counted in backbone_refusals_dropped_total)',
    default: 2_000,
    min: 50,
    max: 30_000,
  }),
  REFUSAL_AUDIT_MAX_PENDING: settings.int({
    description: 'Refusal audit events awaiting Kafka at once; beyond it a refusal is answered at once and counted as dropped (backlog)',
    default: 200,
    min: 1,
    max: 100_000,
  }),
  REFUSAL_AGGREGATE_WINDOW_MS: settings.int({
    description:
      'Anonymous refusals are counted per route, reason and client address bucket and written as one audit event per key and window (ms)',
    default: 30_000,
    min: 100,
    max: 3_600_000,
  }),
  REFUSAL_AGGREGATE_MAX_KEYS: settings.int({
    description: 'Distinct (route, reason, address bucket) keys counted per window; further refusals are counted under one overflow key',
    default: 1_000,
    min: 1,
    max: 1_000_000,
  }),
  ANONYMOUS_REFUSAL_LIMIT: settings.int({
    description: 'Anonymous refusals one source address may receive per window before it is answered 429 with Retry-After',
    default: 60,
    min: 1,
    max: 1_000_000,
  }),
  ANONYMOUS_REFUSAL_WINDOW_MS: settings.int({
    description: 'The anonymous rate limit window (ms)',
    default: 60_000,
    min: 100,
    max: 3_600_000,
  }),
} as const;

export type RefusalAuditSettings = ConfigOf<typeof REFUSAL_AUDIT_SETTINGS>;

export function loadRefusalAuditSettings(env: NodeJS.ProcessEnv = process.env): RefusalAuditSettings {
  return loadConfig(REFUSAL_AUDIT_SETTINGS, env);
}

export const DEFAULT_REFUSAL_AUDIT: RefusalAuditSettings = loadRefusalAuditSettings({});
