import { describe, expect, it } from '@jest/globals';
import { ConfigError } from './config.js';
import { assertProductionReady, backboneEnv, productionProblems } from './production.guard.js';

/** An environment fit for production; each test breaks one thing. */
const FIT: NodeJS.ProcessEnv = {
  BACKBONE_ENV: 'production',
  DATABASE_URL: 'postgres://gate:Zq3v-long-random-secret@db.internal:5432/backbone',
  KAFKA_BROKERS: 'kafka-1.internal:9093',
  KAFKA_TLS: 'true',
  KAFKA_CA_FILE: '/etc/backbone/kafka-ca.pem',
  KAFKA_SASL_USERNAME: 'policy-gate',
  KAFKA_SASL_PASSWORD: 'x8Gk2-long-random-secret',
  EVENT_SIGNING_KEY_FILE: '/etc/backbone/policy-gate.event-key.json',
};

function refused(env: NodeJS.ProcessEnv, req = {}): string[] {
  try {
    assertProductionReady(env, req);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems as string[];
  }
  return [];
}

describe('production fails closed', () => {
  it('accepts a fit production environment', () => {
    expect(refused(FIT)).toEqual([]);
  });

  it('leaves development untouched, and refuses an unknown BACKBONE_ENV rather than reading it as development', () => {
    expect(productionProblems({})).toEqual([]);
    expect(productionProblems({ BACKBONE_ENV: 'development' })).toEqual([]);
    expect(backboneEnv({ BACKBONE_ENV: '' })).toBe('development');
    expect(() => backboneEnv({ BACKBONE_ENV: 'prod' })).toThrow(ConfigError);
  });

  it.each<[string, NodeJS.ProcessEnv, RegExp]>([
    ['no DATABASE_URL', { DATABASE_URL: undefined }, /DATABASE_URL must be given explicitly/],
    ['an empty DATABASE_URL', { DATABASE_URL: '' }, /DATABASE_URL must be given explicitly/],
    ['a database URL without password', { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/backbone' }, /no password or a demo one/],
    ['the demo database password', { DATABASE_URL: 'postgres://postgres:postgres@db:5432/backbone' }, /no password or a demo one/],
    ['Kafka without TLS', { KAFKA_TLS: 'false' }, /TLS only/],
    ['Kafka without TLS (0)', { KAFKA_TLS: '0' }, /TLS only/],
    ['Kafka without authentication', { KAFKA_SASL_MECHANISM: 'none' }, /authenticates to Kafka/],
    ['the local default broker', { KAFKA_BROKERS: undefined }, /KAFKA_BROKERS must be given explicitly/],
    ['a demo Kafka password', { KAFKA_SASL_PASSWORD: 'changeme' }, /KAFKA_SASL_PASSWORD=<redacted> is a demo credential/],
    ['no event signing key', { EVENT_SIGNING_KEY_FILE: undefined }, /EVENT_SIGNING_KEY_FILE must name/],
    ['a CA from the local demo state', { KAFKA_CA_FILE: '/home/op/backbone/.backbone/kafka/tls/ca.pem' }, /local demo state/],
    [
      'a demo introspection credential',
      { OFFICE_INTROSPECTION_TOKEN: 'secret' },
      /OFFICE_INTROSPECTION_TOKEN=<redacted> is a demo credential/,
    ],
  ])('refuses %s', (_label, change, problem) => {
    const problems = refused({ ...FIT, ...change });
    expect(problems.some((p) => problem.test(p))).toBe(true);
  });

  it("refuses a service's generated demo defaults and demo secrets, naming the setting, never its value", () => {
    const req = { explicit: ['AUDIT_SIGNING_KEY_FILE', 'AUDIT_DB_APP_PASSWORD'], secrets: ['AUDIT_DB_APP_PASSWORD'] };
    expect(refused(FIT, req).join()).toMatch(/AUDIT_SIGNING_KEY_FILE must be given explicitly/);
    const demo = refused({ ...FIT, AUDIT_SIGNING_KEY_FILE: '/etc/backbone/audit.pem', AUDIT_DB_APP_PASSWORD: 'Password' }, req);
    expect(demo).toEqual(['BACKBONE_ENV=production: AUDIT_DB_APP_PASSWORD=<redacted> is a demo credential']);
    const all = refused({ ...FIT, DATABASE_URL: 'postgres://u:postgres@db/x', KAFKA_SASL_PASSWORD: 'Secret' }).join('\n');
    expect(all).toMatch(/DATABASE_URL=<redacted>/);
    expect(all).not.toContain('u:postgres');
    expect(all).not.toContain('Secret');
  });
});
