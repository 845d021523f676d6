import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { backboneHome, kafkaStateDir } from './paths.js';

/** What `new Kafka({...})` from kafkajs needs to reach the broker as one principal. */
export interface KafkaConnection {
  brokers: string[];
  ssl: { ca: string[] };
  sasl: { mechanism: 'scram-sha-512'; username: string; password: string };
}

/** The generated principals' passwords, as stored in `<BACKBONE_HOME>/kafka/credentials.json` (mode 600). */
export interface Credentials {
  mechanism: 'SCRAM-SHA-512';
  /** principal name → password */
  principals: Record<string, string>;
}

export interface LocationOptions {
  /** Defaults to `BACKBONE_HOME`, else `<repo>/.backbone`. */
  home?: string;
}

/** Non-secret connection facts written by `broker.sh up`. */
export interface ConnectionInfo {
  brokers: string[];
  caFile: string;
  nodes: number;
}

export function credentialsFile(opts: LocationOptions = {}): string {
  return join(kafkaStateDir(opts.home ?? backboneHome()), 'credentials.json');
}

export function readCredentials(opts: LocationOptions = {}): Credentials {
  const file = credentialsFile(opts);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`no Kafka credentials at ${file} (run: backbone infra up): ${(err as Error).message}`, { cause: err });
  }
  // Group/other bits on this file mean someone copied or edited it carelessly; say so rather than use it silently.
  const mode = statSync(file).mode & 0o077;
  if (mode !== 0) throw new Error(`${file} must be readable by its owner only (chmod 600 ${file})`);
  const parsed = JSON.parse(text) as Partial<Credentials>;
  if (parsed.mechanism !== 'SCRAM-SHA-512' || typeof parsed.principals !== 'object' || parsed.principals === null) {
    throw new Error(`${file} is not a credentials file written by infra/kafka/broker.sh`);
  }
  return { mechanism: 'SCRAM-SHA-512', principals: { ...parsed.principals } };
}

export function connectionInfo(opts: LocationOptions = {}): ConnectionInfo {
  const file = join(kafkaStateDir(opts.home ?? backboneHome()), 'connection.env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no local broker set up (${file} missing; run: backbone infra up)`);
  }
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const brokers = (vars.get('KAFKA_BROKERS') ?? '').split(',').filter(Boolean);
  const caFile = vars.get('KAFKA_CA_FILE') ?? '';
  if (brokers.length === 0 || !caFile) throw new Error(`${file} is incomplete; run: backbone infra up`);
  return { brokers, caFile, nodes: Number(vars.get('BACKBONE_KAFKA_NODES') ?? brokers.length) };
}

/** Connection settings for one principal of the local broker (`admin` is the superuser). */
export function kafkaConnection(principal = 'admin', opts: LocationOptions = {}): KafkaConnection {
  const info = connectionInfo(opts);
  const password = readCredentials(opts).principals[principal];
  if (!password) throw new Error(`no credentials for Kafka principal "${principal}" (is it in the registry? run: backbone infra up)`);
  return {
    brokers: info.brokers,
    ssl: { ca: [readFileSync(info.caFile, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: principal, password },
  };
}
