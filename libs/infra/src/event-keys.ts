import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateEventKey } from '@backbone/kafka';
import type { LocationOptions } from './credentials.js';
import { backboneHome, kafkaStateDir } from './paths.js';

// Event signing keys are provisioned with the Kafka principals: every principal a service or
// subscriber runs as gets an Ed25519 key that signs the audit events it emits. The private key
// goes to that service only (EVENT_SIGNING_KEY_FILE); the audit logger reads the public keys
// (EVENT_PUBLIC_KEYS_FILE). `admin` emits no events and gets none.

export function eventKeysDir(opts: LocationOptions = {}): string {
  return join(kafkaStateDir(opts.home ?? backboneHome()), 'event-keys');
}

/** The private event key of `principal` (mode 600): its service's EVENT_SIGNING_KEY_FILE. */
export function eventKeyFile(principal: string, opts: LocationOptions = {}): string {
  return join(eventKeysDir(opts), `${principal}.json`);
}

/** Every principal's public event keys, rotated ones included: the audit logger's EVENT_PUBLIC_KEYS_FILE. */
export function eventPublicKeysFile(opts: LocationOptions = {}): string {
  return join(eventKeysDir(opts), 'public-keys.json');
}

/** Creates a key for each principal that has none; returns the principals that got one. */
export function ensureEventKeys(principals: readonly string[], opts: LocationOptions = {}): string[] {
  const created: string[] = [];
  for (const principal of principals) {
    if (principal === 'admin' || existsSync(eventKeyFile(principal, opts))) continue;
    generateEventKey(eventKeyFile(principal, opts), eventPublicKeysFile(opts), principal);
    created.push(principal);
  }
  return created;
}

/** A new event key for `principal`; the old public key stays so events it signed still verify. */
export function rotateEventKey(principal: string, opts: LocationOptions = {}): string {
  return generateEventKey(eventKeyFile(principal, opts), eventPublicKeysFile(opts), principal).keyId;
}
