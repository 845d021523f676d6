import { readFileSync } from 'node:fs';
import { ConfigError } from '@backbone/bootstrap';
import { AGENCY_CODE_PATTERN } from './config/subscriber.config.js';

/** One agency served by a shared host process: its own port, Kafka principal, consumer group and schema. */
export interface HostedAgency {
  agency: string;
  port: number;
  kafkaUsername: string;
  kafkaPassword: string;
}

/**
 * Reads SUBSCRIBER_HOST_FILE: a JSON array of { agency, port, kafkaUsername, kafkaPassword }.
 * It holds passwords, so it must not be readable by others (as credentials.json). ADR 0005.
 */
export function parseHostFile(text: string, source = 'SUBSCRIBER_HOST_FILE'): HostedAgency[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${source} is not JSON: ${(err as Error).message}`]);
  }
  if (!Array.isArray(doc) || doc.length === 0) throw new ConfigError([`${source} must be a non-empty JSON array of agencies`]);
  const problems: string[] = [];
  const seen = new Set<string>();
  const ports = new Set<number>();
  const out = doc.map((entry: unknown, i): HostedAgency => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const agency = typeof e['agency'] === 'string' ? e['agency'] : '';
    const port = typeof e['port'] === 'number' ? e['port'] : NaN;
    const kafkaUsername = typeof e['kafkaUsername'] === 'string' ? e['kafkaUsername'] : '';
    const kafkaPassword = typeof e['kafkaPassword'] === 'string' ? e['kafkaPassword'] : '';
    if (!AGENCY_CODE_PATTERN.test(agency)) problems.push(`${source}[${i}].agency ${JSON.stringify(e['agency'])} is not an agency code`);
    else if (seen.has(agency)) problems.push(`${source}[${i}].agency ${agency} appears twice`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`${source}[${i}].port must be a TCP port`);
    else if (port !== 0 && ports.has(port)) problems.push(`${source}[${i}].port ${port} is used twice`);
    if (!kafkaUsername || !kafkaPassword) problems.push(`${source}[${i}] needs kafkaUsername and kafkaPassword (each agency keeps its own principal)`);
    seen.add(agency);
    ports.add(port);
    return { agency, port, kafkaUsername, kafkaPassword };
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

export function readHostFile(path: string): HostedAgency[] {
  return parseHostFile(readFileSync(path, 'utf8'), `SUBSCRIBER_HOST_FILE=${path}`);
}
