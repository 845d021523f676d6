// What the publisher needs from the member-agency registry: which agency codes exist and the
// region of each (for senderRegion and the partition range).
//
// Local adapter: @backbone/policy's loadRegistry() was not published yet when this app was
// written, so the registry YAML is read here with only the fields we need. Swap the body of
// loadAgencyDirectory() for loadRegistry(path) once it lands; the interface stays.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REGIONS, type Region } from '@backbone/codec';

export interface AgencyEntry {
  readonly code: string;
  readonly country: string;
  readonly region: Region;
}

export interface AgencyDirectory {
  readonly version: string;
  has(code: string): boolean;
  get(code: string): AgencyEntry | undefined;
  codes(): string[];
}

export function agencyDirectoryOf(version: string, entries: readonly AgencyEntry[]): AgencyDirectory {
  const byCode = new Map(entries.map((e) => [e.code, e]));
  return {
    version,
    has: (code) => byCode.has(code),
    get: (code) => byCode.get(code),
    codes: () => [...byCode.keys()],
  };
}

/** Reads `<policiesDir>/registry.yaml`; fails with the file and entry named when it is malformed. */
export function loadAgencyDirectory(policiesDir: string): AgencyDirectory {
  const file = join(policiesDir, 'registry.yaml');
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read the agency registry ${file}: ${(err as Error).message}`, { cause: err });
  }
  const root = doc as { version?: unknown; agencies?: unknown };
  if (!Array.isArray(root?.agencies)) throw new Error(`${file}: no agencies list`);
  const entries = root.agencies.map((raw: unknown, i: number): AgencyEntry => {
    const a = raw as { code?: unknown; country?: unknown; region?: unknown };
    if (typeof a?.code !== 'string' || typeof a.country !== 'string' || !(REGIONS as readonly unknown[]).includes(a.region)) {
      throw new Error(`${file}: agencies[${i}] needs a code, a country and a region`);
    }
    return { code: a.code, country: a.country, region: a.region as Region };
  });
  return agencyDirectoryOf(String(root.version ?? 'unversioned'), entries);
}
