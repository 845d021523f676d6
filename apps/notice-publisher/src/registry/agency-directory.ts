// What the publisher needs from the member-agency registry: which agency codes exist and the
// region of each (for senderRegion and the partition range). Read with @backbone/policy's
// loadRegistry, so the publisher accepts exactly the registry the policy gate accepts.
import { join } from 'node:path';
import type { Region } from '@backbone/codec';
import { loadRegistry } from '@backbone/policy';

export interface AgencyEntry {
  readonly code: string;
  readonly country: string;
  readonly region: Region;
}

export interface AgencyDirectory {
  has(code: string): boolean;
  get(code: string): AgencyEntry | undefined;
}

export function agencyDirectoryOf(entries: readonly AgencyEntry[]): AgencyDirectory {
  const byCode = new Map(entries.map((e) => [e.code, e]));
  return {
    has: (code) => byCode.has(code),
    get: (code) => byCode.get(code),
  };
}

/** Reads `<policiesDir>/registry.yaml`; throws PolicyValidationError naming every issue when it is malformed. */
export function loadAgencyDirectory(policiesDir: string): AgencyDirectory {
  const registry = loadRegistry(join(policiesDir, 'registry.yaml'));
  return agencyDirectoryOf(registry.agencies.map((a) => ({ code: a.code, country: a.country, region: a.region })));
}
