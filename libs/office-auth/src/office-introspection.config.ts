import { backboneEnv, ConfigError, loadConfig, settings, type ConfigOf } from '@backbone/bootstrap';
import { MAX_INTROSPECTION_CACHE_MS, OfficeIntrospectionClient } from './office-introspection.js';

/** How a service that admits office tokens reaches the publisher's introspection route. */
export const OFFICE_INTROSPECTION_SETTINGS = {
  OFFICE_INTROSPECTION_URL: settings.optionalString({
    description: 'Base URL of the notice publisher, asked about liaison office tokens; unset: office routes refuse every caller (401)',
  }),
  OFFICE_INTROSPECTION_TOKEN: settings.optionalString({
    description: "This service's own credential at the publisher (its SHA-256 is in the publisher's INTROSPECTION_CLIENTS)",
    sensitive: true,
  }),
  OFFICE_INTROSPECTION_CACHE_MS: settings.int({
    description: `How long an introspection answer is reused (ms); a revoked office token is refused within this plus one request`,
    default: 2000,
    min: 0,
    max: MAX_INTROSPECTION_CACHE_MS,
  }),
} as const;

export type OfficeIntrospectionSettings = ConfigOf<typeof OFFICE_INTROSPECTION_SETTINGS>;

/** The client the settings describe, or null when office verification is not configured. */
export function officeIntrospectionFromEnv(env: NodeJS.ProcessEnv = process.env): OfficeIntrospectionClient | null {
  const s = loadConfig(OFFICE_INTROSPECTION_SETTINGS, env);
  if (s.OFFICE_INTROSPECTION_URL === null && s.OFFICE_INTROSPECTION_TOKEN === null) return null;
  if (s.OFFICE_INTROSPECTION_URL === null || s.OFFICE_INTROSPECTION_TOKEN === null)
    throw new ConfigError(['OFFICE_INTROSPECTION_URL and OFFICE_INTROSPECTION_TOKEN are set together or not at all']);
  // The service's credential and the office's token travel in this request: never in clear text in production.
  if (backboneEnv(env) === 'production' && !/^https:\/\//i.test(s.OFFICE_INTROSPECTION_URL))
    throw new ConfigError(['BACKBONE_ENV=production: OFFICE_INTROSPECTION_URL must be an https:// URL']);
  return new OfficeIntrospectionClient({
    url: s.OFFICE_INTROSPECTION_URL,
    serviceToken: s.OFFICE_INTROSPECTION_TOKEN,
    cacheMs: s.OFFICE_INTROSPECTION_CACHE_MS,
  });
}

/**
 * The publisher's INTROSPECTION_CLIENTS: `name=<sha256 hex>,…`, the services allowed to ask
 * about office tokens, each by the SHA-256 of its own credential (hashToken from @backbone/auth).
 */
export function parseIntrospectionClients(raw: string | null): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  if (raw === null) return out;
  const problems: string[] = [];
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const m = /^([a-z][a-z0-9-]{0,62})=([0-9a-f]{64})$/.exec(entry);
    if (!m) problems.push('INTROSPECTION_CLIENTS=<redacted>: each entry is <service-name>=<64 lowercase hex SHA-256 of its token>');
    else if (out.has(m[1]!)) problems.push(`INTROSPECTION_CLIENTS names ${m[1]} twice`);
    else out.set(m[1]!, m[2]!);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}
