import { existsSync, readFileSync } from 'node:fs';
import { REGIONS } from '@backbone/codec';
import { isIsoCountry } from './iso-countries.data.js';
import { PolicyValidationError } from './policy-validation.error.js';
import { DEATH_PENALTY_STATUSES, MEMBERSHIPS, type Agency, type Registry } from './registry.types.js';
import {
  IssueCollector,
  asRecord,
  join,
  parseYaml,
  readBoolean,
  readDate,
  readEnum,
  readList,
  readString,
  rejectUnknownKeys,
} from './yaml-fields.reader.js';

/** Agency codes end up in Kafka topic and principal names: keep them to a safe alphabet. */
export const AGENCY_CODE = /^[A-Z0-9][A-Z0-9_-]{1,63}$/;
export const AGREEMENT_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;
const AGENCY_CODE_HINT = 'an agency code (capitals, digits, - and _; e.g. FR-NCB)';

const AGENCY_FIELDS = [
  'code',
  'name',
  'country',
  'region',
  'memberships',
  'agreements',
  'adequacy',
  'deathPenalty',
  'victimSupport',
  'joined',
];

/** Reads and validates the member registry; throws PolicyValidationError listing every issue. */
export function loadRegistry(path: string): Registry {
  if (!existsSync(path)) throw new PolicyValidationError([{ file: path, path: '', message: 'registry file not found' }]);
  return parseRegistry(readFileSync(path, 'utf8'), path);
}

export function parseRegistry(text: string, file: string): Registry {
  const out = new IssueCollector(file);
  const registry = validateRegistry(parseYaml(text, out), out);
  if (out.issues.length > 0 || !registry) throw new PolicyValidationError(out.issues);
  return registry;
}

/** Validates already-parsed YAML; records issues in `out` and returns undefined if there are any. */
export function validateRegistry(data: unknown, out: IssueCollector): Registry | undefined {
  if (data === undefined) return undefined;
  const root = asRecord(data, '', out);
  if (!root) return undefined;
  rejectUnknownKeys(root, ['version', 'agencies'], '', out);
  const version = readString(root, 'version', '', out);
  if (!Array.isArray(root['agencies'])) {
    out.add('agencies', root['agencies'] === undefined ? 'is required' : 'must be a list of agencies');
    return undefined;
  }
  const agencies: Agency[] = [];
  const firstIndexOf = new Map<string, number>();
  root['agencies'].forEach((entry: unknown, index: number) => {
    const code = isRecordWithCode(entry) ? entry.code : undefined;
    const path = code === undefined ? `agencies[${index}]` : `agencies[${index}] (${code})`;
    const agency = validateAgency(entry, path, out);
    if (!agency) return;
    const first = firstIndexOf.get(agency.code);
    if (first !== undefined) {
      out.add(join(path, 'code'), `duplicate agency code ${agency.code} (first at agencies[${first}])`);
      return;
    }
    firstIndexOf.set(agency.code, index);
    agencies.push(agency);
  });
  if (out.issues.length > 0 || version === undefined) return undefined;
  return { version, source: out.file, agencies };
}

function isRecordWithCode(value: unknown): value is { code: string } {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string';
}

function validateAgency(entry: unknown, path: string, out: IssueCollector): Agency | undefined {
  const record = asRecord(entry, path, out);
  if (!record) return undefined;
  const before = out.issues.length;
  rejectUnknownKeys(record, AGENCY_FIELDS, path, out);
  const code = readString(record, 'code', path, out, { pattern: AGENCY_CODE, patternHint: AGENCY_CODE_HINT });
  const name = readString(record, 'name', path, out);
  const country = readString(record, 'country', path, out);
  if (country !== undefined && !isIsoCountry(country)) {
    out.add(join(path, 'country'), `"${country}" is not an ISO 3166-1 alpha-2 country code`);
  }
  const region = readEnum(record, 'region', REGIONS, path, out);
  const memberships = readList(record, 'memberships', path, out, { allowed: MEMBERSHIPS });
  const agreements = readList(record, 'agreements', path, out, {
    pattern: AGREEMENT_CODE,
    patternHint: 'an agreement code (e.g. EU_OPERATIONAL)',
  });
  const adequacy = readBoolean(record, 'adequacy', path, out);
  const deathPenalty = readEnum(record, 'deathPenalty', DEATH_PENALTY_STATUSES, path, out);
  const victimSupport = readBoolean(record, 'victimSupport', path, out);
  const joined = readDate(record, 'joined', path, out);
  if (out.issues.length > before) return undefined;
  // Every reader above succeeded (no new issue), so none of these is undefined.
  return {
    code: code!,
    name: name!,
    country: country!,
    region: region!,
    memberships: memberships!,
    agreements: agreements!,
    adequacy: adequacy!,
    deathPenalty: deathPenalty!,
    victimSupport: victimSupport!,
    joined: joined!,
  };
}
