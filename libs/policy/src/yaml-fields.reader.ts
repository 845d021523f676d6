// A deliberately tiny schema helper for the two YAML formats: each reader checks one field,
// records an issue naming file and path when it is wrong, and returns undefined so the caller
// can keep going and report every problem at once.
import { parseDocument } from 'yaml';
import type { ValidationIssue } from './policy-validation.error.js';

export type YamlRecord = Record<string, unknown>;

export class IssueCollector {
  readonly issues: ValidationIssue[] = [];

  constructor(readonly file: string) {}

  add(path: string, message: string): void {
    this.issues.push({ file: this.file, path, message });
  }
}

export function parseYaml(text: string, out: IssueCollector): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const at = error.linePos?.[0];
      const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      out.add(at ? `line ${at.line}, column ${at.col}` : '', `invalid YAML: ${message}`);
    }
    return undefined;
  }
  return doc.toJS();
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a timestamp';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return String(value);
}

export function isRecord(value: unknown): value is YamlRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function asRecord(value: unknown, path: string, out: IssueCollector): YamlRecord | undefined {
  if (isRecord(value)) return value;
  out.add(path, `must be a mapping, got ${describeValue(value)}`);
  return undefined;
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Unknown keys are errors: a misspelt `nevrTo` silently ignored would be a leak. */
export function rejectUnknownKeys(record: YamlRecord, allowed: readonly string[], path: string, out: IssueCollector): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) out.add(join(path, key), `unknown field (expected one of: ${allowed.join(', ')})`);
  }
}

export function readString(
  record: YamlRecord,
  key: string,
  path: string,
  out: IssueCollector,
  opts: { pattern?: RegExp; patternHint?: string; optional?: boolean } = {},
): string | undefined {
  const value = record[key];
  const at = join(path, key);
  if (value === undefined) {
    if (!opts.optional) out.add(at, 'is required');
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    out.add(at, `must be a non-empty string, got ${describeValue(value)}`);
    return undefined;
  }
  if (opts.pattern && !opts.pattern.test(value)) {
    out.add(at, `"${value}" is not ${opts.patternHint ?? `of the form ${opts.pattern.source}`}`);
    return undefined;
  }
  return value;
}

export function readBoolean(record: YamlRecord, key: string, path: string, out: IssueCollector): boolean | undefined {
  const value = record[key];
  if (typeof value === 'boolean') return value;
  out.add(join(path, key), value === undefined ? 'is required' : `must be true or false, got ${describeValue(value)}`);
  return undefined;
}

export function readEnum<T extends string>(
  record: YamlRecord,
  key: string,
  allowed: readonly T[],
  path: string,
  out: IssueCollector,
): T | undefined {
  const value = record[key];
  const at = join(path, key);
  if (value === undefined) {
    out.add(at, 'is required');
    return undefined;
  }
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  out.add(at, `${describeValue(value)} is not one of: ${allowed.join(', ')}`);
  return undefined;
}

/** A list of strings; each element optionally restricted to `allowed` or `pattern`; duplicates rejected. */
export function readList<T extends string = string>(
  record: YamlRecord,
  key: string,
  path: string,
  out: IssueCollector,
  opts: { allowed?: readonly T[]; pattern?: RegExp; patternHint?: string; optional?: boolean; nonEmpty?: boolean } = {},
): T[] | undefined {
  const value = record[key];
  const at = join(path, key);
  if (value === undefined) {
    if (opts.optional) return [];
    out.add(at, 'is required (use [] for none)');
    return undefined;
  }
  return checkList<T>(value, at, out, opts);
}

export function checkList<T extends string = string>(
  value: unknown,
  at: string,
  out: IssueCollector,
  opts: { allowed?: readonly T[]; pattern?: RegExp; patternHint?: string; nonEmpty?: boolean } = {},
): T[] | undefined {
  if (!Array.isArray(value)) {
    out.add(at, `must be a list, got ${describeValue(value)}`);
    return undefined;
  }
  if (opts.nonEmpty && value.length === 0) {
    out.add(at, 'must not be empty');
    return undefined;
  }
  const result: T[] = [];
  let ok = true;
  value.forEach((item: unknown, index) => {
    const itemAt = join(at, index);
    if (typeof item !== 'string') {
      out.add(itemAt, `must be a string, got ${describeValue(item)}`);
      ok = false;
    } else if (opts.allowed && !(opts.allowed as readonly string[]).includes(item)) {
      out.add(itemAt, `"${item}" is not one of: ${opts.allowed.join(', ')}`);
      ok = false;
    } else if (opts.pattern && !opts.pattern.test(item)) {
      out.add(itemAt, `"${item}" is not ${opts.patternHint ?? `of the form ${opts.pattern.source}`}`);
      ok = false;
    } else if (result.includes(item as T)) {
      out.add(itemAt, `"${item}" is listed twice`);
      ok = false;
    } else {
      result.push(item as T);
    }
  });
  return ok ? result : undefined;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date `YYYY-MM-DD` as midnight UTC (YAML 1.2 reads an unquoted date as a string too). */
export function readDate(record: YamlRecord, key: string, path: string, out: IssueCollector): Date | undefined {
  const value = record[key];
  const at = join(path, key);
  if (value instanceof Date) return value;
  if (typeof value !== 'string') {
    out.add(at, value === undefined ? 'is required' : `must be a date YYYY-MM-DD, got ${describeValue(value)}`);
    return undefined;
  }
  const date = parseCalendarDate(value);
  if (!date) out.add(at, `"${value}" is not a valid date YYYY-MM-DD`);
  return date;
}

export function parseCalendarDate(value: string): Date | undefined {
  const match = ISO_DATE.exec(value);
  if (!match) return undefined;
  const date = new Date(`${value}T00:00:00.000Z`);
  // Date rolls 2026-02-30 over to March; a round trip catches that.
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value ? undefined : date;
}
