import { ConfigError } from './config.js';

// Production fails closed: the conveniences that make `npm start` work on a laptop (a local
// database found by itself, a broker without TLS, generated or well-known secrets) are refused
// when BACKBONE_ENV=production, so a misconfigured deployment stops instead of running unsafely.

export const BACKBONE_ENVS = ['development', 'test', 'production'] as const;
export type BackboneEnv = (typeof BACKBONE_ENVS)[number];

/** Passwords that ship in examples, tutorials and container images; never acceptable in production. */
export const DEMO_SECRETS: readonly string[] = [
  'postgres',
  'password',
  'changeme',
  'change-me',
  'backbone',
  'admin',
  'secret',
  'demo',
  'test',
  'kafka',
];

const SHARED_SECRETS: readonly string[] = ['OFFICE_INTROSPECTION_TOKEN'];

export interface ProductionRequirements {
  /** Settings this service would otherwise fill with a generated demo value (e.g. a key file under .backbone/). */
  readonly explicit?: readonly string[];
  /** Settings holding a secret (besides DATABASE_URL and KAFKA_SASL_PASSWORD) that must not be a demo value. */
  readonly secrets?: readonly string[];
}

/** BACKBONE_ENV, refusing a value it does not know (a typo such as "prod" must not mean development). */
export function backboneEnv(env: NodeJS.ProcessEnv = process.env): BackboneEnv {
  const raw = env['BACKBONE_ENV']?.trim() ?? '';
  if (raw === '') return 'development';
  if (!(BACKBONE_ENVS as readonly string[]).includes(raw)) {
    throw new ConfigError([`BACKBONE_ENV=${JSON.stringify(raw)} must be one of ${BACKBONE_ENVS.join(', ')}`]);
  }
  return raw as BackboneEnv;
}

function isDemoSecret(value: string): boolean {
  return value.trim() === '' || DEMO_SECRETS.includes(value.trim().toLowerCase());
}

/** A path inside the local demo state (`.backbone/`), where `npm start` keeps generated secrets. */
function inDemoState(path: string, env: NodeJS.ProcessEnv): boolean {
  const home = (env['BACKBONE_HOME'] ?? '').trim();
  return /(^|[/\\])\.backbone([/\\]|$)/.test(path) || (home !== '' && path.startsWith(home));
}

/**
 * Every reason this environment may not run in production, or [] outside production.
 * Secret values are never quoted in the problems, only the setting's name.
 */
export function productionProblems(env: NodeJS.ProcessEnv, req: ProductionRequirements = {}): string[] {
  if (backboneEnv(env) !== 'production') return [];
  const problems: string[] = [];
  const set = (name: string) => (env[name] ?? '').trim() !== '';

  if (!set('DATABASE_URL')) problems.push('DATABASE_URL must be given explicitly (no local or embedded database in production)');
  else {
    let password = '';
    try {
      password = decodeURIComponent(new URL(env['DATABASE_URL']!).password);
    } catch {
      problems.push('DATABASE_URL=<redacted> is not a URL');
    }
    if (isDemoSecret(password)) problems.push('DATABASE_URL=<redacted> carries no password or a demo one');
  }

  if (!set('KAFKA_BROKERS')) problems.push('KAFKA_BROKERS must be given explicitly (no local broker in production)');
  if (['0', 'false', 'no', 'off'].includes((env['KAFKA_TLS'] ?? '').trim().toLowerCase())) {
    problems.push('KAFKA_TLS=false: production connects to Kafka over TLS only');
  }
  if ((env['KAFKA_SASL_MECHANISM'] ?? '').trim() === 'none') problems.push('KAFKA_SASL_MECHANISM=none: production authenticates to Kafka');
  if (set('KAFKA_SASL_PASSWORD') && isDemoSecret(env['KAFKA_SASL_PASSWORD']!))
    problems.push('KAFKA_SASL_PASSWORD=<redacted> is a demo credential');
  // Unsigned audit events would be parked as forged: every service signs what it emits.
  if (!set('EVENT_SIGNING_KEY_FILE')) problems.push("EVENT_SIGNING_KEY_FILE must name this principal's event signing key");

  for (const name of req.explicit ?? [])
    if (!set(name)) problems.push(`${name} must be given explicitly in production (the default is a generated demo value)`);
  // Secrets any service may hold (a service's credential at the publisher's introspection route), checked wherever set.
  for (const name of [...SHARED_SECRETS, ...(req.secrets ?? [])])
    if (set(name) && isDemoSecret(env[name]!)) problems.push(`${name}=<redacted> is a demo credential`);
  for (const [name, value] of Object.entries(env)) {
    if (name.endsWith('_FILE') && value && inDemoState(value, env))
      problems.push(`${name}=${JSON.stringify(value)} points into the local demo state (.backbone/)`);
  }
  return problems;
}

/** Throws a ConfigError naming every problem when BACKBONE_ENV=production and the environment is not fit for it. */
export function assertProductionReady(env: NodeJS.ProcessEnv = process.env, req: ProductionRequirements = {}): void {
  const problems = productionProblems(env, req);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `BACKBONE_ENV=production: ${p}`));
}
