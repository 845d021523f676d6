import {
  NOTICE_TYPES,
  REGIONS,
  SEVERITIES,
  TLPS,
  URGENCIES,
  type NoticeType,
  type Region,
  type Severity,
  type Tlp,
  type Urgency,
} from '@backbone/codec';

/**
 * What a desk asks for. Every list is "any of"; an empty or absent list means no restriction.
 * `minUrgency`/`minSeverity` are shorthands for "this level or more urgent/severe" (CAP order,
 * most urgent first; Unknown ranks lowest).
 */
export interface DeskFilterInput {
  regions?: string[];
  noticeTypes?: string[];
  urgencies?: string[];
  minUrgency?: string;
  severities?: string[];
  minSeverity?: string;
  tlps?: string[];
}

/** The stored, normalised form: lists only, each value checked against the Avro enum. */
export interface DeskFilter {
  regions: Region[];
  noticeTypes: NoticeType[];
  urgencies: Urgency[];
  severities: Severity[];
  tlps: Tlp[];
}

export class DeskFilterError extends Error {
  constructor(readonly problems: { field: string; message: string }[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    this.name = 'DeskFilterError';
  }
}

const FILTER_FIELDS: readonly string[] = ['regions', 'noticeTypes', 'urgencies', 'minUrgency', 'severities', 'minSeverity', 'tlps'];

export function normaliseDeskFilter(input: DeskFilterInput): DeskFilter {
  const problems: { field: string; message: string }[] = [];
  // A misspelt field ("region") would otherwise be ignored, and the desk would see everything.
  for (const field of Object.keys(input)) {
    if (!FILTER_FIELDS.includes(field)) problems.push({ field, message: `unknown filter field; allowed: ${FILTER_FIELDS.join(', ')}` });
  }
  const list = <T extends string>(field: string, raw: unknown, allowed: readonly T[]): T[] => {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string')) {
      problems.push({ field, message: 'must be a list of strings' });
      return [];
    }
    const bad = raw.filter((v: string) => !(allowed as readonly string[]).includes(v));
    if (bad.length > 0) problems.push({ field, message: `unknown ${bad.join(', ')}; allowed: ${allowed.join(', ')}` });
    return [...new Set(raw as T[])];
  };
  const atLeast = <T extends string>(field: string, raw: unknown, order: readonly T[]): T[] => {
    if (raw === undefined || raw === null) return [];
    const i = (order as readonly unknown[]).indexOf(raw);
    if (i < 0) {
      problems.push({ field, message: `must be one of ${order.join(', ')}` });
      return [];
    }
    return order.slice(0, i + 1);
  };
  // Both a list and a minimum: the levels in both. Nothing in common must be refused, not
  // stored as [] (which means "no restriction": the desk would see every level).
  const intersect = <T extends string>(field: string, a: T[], b: T[]): T[] => {
    if (a.length === 0) return b;
    if (b.length === 0) return a;
    const both = a.filter((v) => b.includes(v));
    if (both.length === 0) problems.push({ field, message: `no level in the list is at or above ${field} ${b[b.length - 1]}` });
    return both;
  };

  const filter: DeskFilter = {
    regions: list('regions', input.regions, REGIONS),
    noticeTypes: list('noticeTypes', input.noticeTypes, NOTICE_TYPES),
    urgencies: intersect('minUrgency', list('urgencies', input.urgencies, URGENCIES), atLeast('minUrgency', input.minUrgency, URGENCIES)),
    severities: intersect(
      'minSeverity',
      list('severities', input.severities, SEVERITIES),
      atLeast('minSeverity', input.minSeverity, SEVERITIES),
    ),
    tlps: list('tlps', input.tlps, TLPS),
  };
  if (problems.length > 0) throw new DeskFilterError(problems);
  return filter;
}

/** The columns a filter is evaluated on; both `alerts` and `alert_versions` carry them. */
export interface FilterColumns {
  sender_region: string;
  notice_type: string;
  urgency: string;
  severity: string;
  tlp: string;
}

/**
 * SQL conditions for a filter on a table aliased `alias`, appending their values to `params`.
 * Values are bound, never spliced, and column names are fixed here.
 */
export function filterConditions(filter: DeskFilter, alias: string, params: unknown[]): string[] {
  const conditions: string[] = [];
  const add = (column: keyof FilterColumns, values: readonly string[]): void => {
    if (values.length === 0) return;
    params.push(values);
    conditions.push(`${alias}.${column} = ANY($${params.length}::text[])`);
  };
  add('sender_region', filter.regions);
  add('notice_type', filter.noticeTypes);
  add('urgency', filter.urgencies);
  add('severity', filter.severities);
  add('tlp', filter.tlps);
  return conditions;
}
