import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { FIELD_GROUPS, NOTICE_TYPES, PURPOSES, SCOPES, VICTIM_CATEGORIES, type NoticeType, type Purpose } from '@backbone/codec';
import {
  FLAG_TRIGGERS,
  REDACTION_EXEMPTIONS,
  REDACTION_ORIGINATORS,
  RULE_KINDS,
  type PolicyDocument,
  type PolicyRule,
  type RuleKind,
} from './policy-document.types.js';
import { PolicyValidationError } from './policy-validation.error.js';
import { AGENCY_CODE, AGREEMENT_CODE } from './registry.loader.js';
import { DEATH_PENALTY_STATUSES, MEMBERSHIPS } from './registry.types.js';
import {
  IssueCollector,
  asRecord,
  checkList,
  describeValue,
  isRecord,
  join,
  parseYaml,
  readEnum,
  readList,
  readString,
  rejectUnknownKeys,
  type YamlRecord,
} from './yaml-fields.reader.js';

/** `2026-11-01`, or `2026-11-01.2` for a second version on the same day. */
export const POLICY_VERSION = /^\d{4}-\d{2}-\d{2}(\.[1-9]\d*)?$/;
const RULE_ID = /^[a-z0-9][a-z0-9.-]{0,63}$/;
const EXERCISE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FLAG_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
const CODE_HINT = { pattern: AGENCY_CODE, patternHint: 'an agency code (e.g. FR-NCB)' };

/** Kinds a document may hold at most once: two of them would leave precedence ambiguous. */
const SINGLETON_KINDS: readonly RuleKind[] = [
  'victim-protection',
  'third-country-transfer',
  'capital-offence',
  'purpose-limits',
  'new-member',
];

const KIND_FIELDS: Record<RuleKind, readonly string[]> = {
  'victim-protection': ['categories'],
  redaction: ['group', 'originators', 'exemptIf'],
  'third-country-transfer': ['area', 'recognisedAgreements'],
  'capital-offence': ['recipientStatuses', 'assurances'],
  'purpose-limits': ['noticeTypes', 'agencies'],
  'review-hold': ['noticeTypes', 'purposes'],
  'new-member': ['scopes', 'exemptNoticeTypes'],
  exercise: ['exerciseId', 'participants'],
  'execution-flag': ['when', 'flag'],
};

/**
 * Loads one version of the sharing rules. `dir` is the policies directory (its `rules/`
 * folder is used) or the rules folder itself. Without `version`, the newest document.
 */
export function loadPolicy(dir: string, version?: string): PolicyDocument {
  const rulesDir = rulesDirOf(dir);
  if (!existsSync(rulesDir)) throw new PolicyValidationError([{ file: rulesDir, path: '', message: 'policy directory not found' }]);
  const files = listPolicyFiles(rulesDir);
  if (files.length === 0) {
    throw new PolicyValidationError([{ file: rulesDir, path: '', message: 'no policy documents (<version>.yaml) found' }]);
  }
  let chosen = files[files.length - 1]!;
  if (version !== undefined) {
    const match = files.find((file) => file.version === version);
    if (!match) {
      const known = files.map((file) => file.version).join(', ');
      throw new PolicyValidationError([{ file: rulesDir, path: '', message: `no policy version ${version} (available: ${known})` }]);
    }
    chosen = match;
  }
  return parsePolicyDocument(readFileSync(chosen.path, 'utf8'), chosen.path);
}

export function rulesDirOf(dir: string): string {
  const nested = joinPath(dir, 'rules');
  return existsSync(nested) && statSync(nested).isDirectory() ? nested : dir;
}

export interface PolicyFile {
  readonly path: string;
  /** The version the file name claims; the document's own `version` must agree. */
  readonly version: string;
}

/** `<version>.yaml` files of a rules folder, oldest first. Other YAML files are ignored here. */
export function listPolicyFiles(rulesDir: string): PolicyFile[] {
  return readdirSync(rulesDir)
    .map((name) => /^(.*)\.ya?ml$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null && POLICY_VERSION.test(match[1]!))
    .map((match) => ({ path: joinPath(rulesDir, match[0]), version: match[1]! }))
    .sort((a, b) => compareVersions(a.version, b.version));
}

/** Orders `YYYY-MM-DD[.N]` versions; the date compares as text, the suffix as a number. */
export function compareVersions(a: string, b: string): number {
  const [dateA = '', seqA = '0'] = a.split('.');
  const [dateB = '', seqB = '0'] = b.split('.');
  if (dateA !== dateB) return dateA < dateB ? -1 : 1;
  return Number(seqA) - Number(seqB);
}

export function parsePolicyDocument(text: string, file: string): PolicyDocument {
  const out = new IssueCollector(file);
  const doc = validatePolicyDocument(parseYaml(text, out), out);
  if (out.issues.length > 0 || !doc) throw new PolicyValidationError(out.issues);
  return doc;
}

export function validatePolicyDocument(data: unknown, out: IssueCollector): PolicyDocument | undefined {
  if (data === undefined) return undefined;
  const root = asRecord(data, '', out);
  if (!root) return undefined;
  rejectUnknownKeys(root, ['version', 'description', 'rules'], '', out);
  const version = readString(root, 'version', '', out, { pattern: POLICY_VERSION, patternHint: 'a policy version YYYY-MM-DD[.N]' });
  const fileVersion = /([^/\\]*)\.ya?ml$/.exec(out.file)?.[1];
  if (version !== undefined && fileVersion !== undefined && POLICY_VERSION.test(fileVersion) && fileVersion !== version) {
    out.add('version', `"${version}" does not match the file name (${fileVersion}); name the file <version>.yaml`);
  }
  const description = readString(root, 'description', '', out);
  if (!Array.isArray(root['rules'])) {
    out.add('rules', root['rules'] === undefined ? 'is required' : `must be a list of rules, got ${describeValue(root['rules'])}`);
    return undefined;
  }
  const rules: PolicyRule[] = [];
  const firstIndexOf = new Map<string, number>();
  root['rules'].forEach((entry: unknown, index: number) => {
    const id = isRecord(entry) && typeof entry['id'] === 'string' ? entry['id'] : undefined;
    const path = id === undefined ? `rules[${index}]` : `rules[${index}] (id=${id})`;
    const rule = validateRule(entry, path, out);
    if (!rule) return;
    const first = firstIndexOf.get(rule.id);
    if (first !== undefined) {
      out.add(join(path, 'id'), `duplicate rule id ${rule.id} (first at rules[${first}])`);
      return;
    }
    firstIndexOf.set(rule.id, index);
    rules.push(rule);
  });
  checkDocumentInvariants(rules, (rule) => `rules[${firstIndexOf.get(rule.id)}] (id=${rule.id})`, out);
  if (out.issues.length > 0 || version === undefined || description === undefined) return undefined;
  return { version, description, source: out.file, rules };
}

function validateRule(entry: unknown, path: string, out: IssueCollector): PolicyRule | undefined {
  const record = asRecord(entry, path, out);
  if (!record) return undefined;
  const before = out.issues.length;
  const id = readString(record, 'id', path, out, { pattern: RULE_ID, patternHint: 'a rule id (lower-case letters, digits, . and -)' });
  const kind = readEnum(record, 'kind', RULE_KINDS, path, out);
  const description = readString(record, 'description', path, out);
  if (kind === undefined) return undefined;
  rejectUnknownKeys(record, ['id', 'kind', 'description', ...KIND_FIELDS[kind]], path, out);
  const rule = validateRuleBody(kind, record, path, out);
  if (out.issues.length > before || !rule || id === undefined || description === undefined) return undefined;
  // The body readers return everything but the common fields; the kind was checked above.
  return { id, description, ...rule } as PolicyRule;
}

// Distributes over the union so each kind keeps its own fields.
type RuleBody = PolicyRule extends infer R ? (R extends PolicyRule ? Omit<R, 'id' | 'description'> : never) : never;

function validateRuleBody(kind: RuleKind, r: YamlRecord, path: string, out: IssueCollector): RuleBody | undefined {
  switch (kind) {
    case 'victim-protection':
      return { kind, categories: readList(r, 'categories', path, out, { allowed: VICTIM_CATEGORIES, nonEmpty: true })! };
    case 'redaction': {
      const originators = r['originators'] === undefined ? 'any' : readEnum(r, 'originators', REDACTION_ORIGINATORS, path, out);
      return {
        kind,
        group: readEnum(r, 'group', FIELD_GROUPS, path, out)!,
        originators: originators!,
        exemptIf: readList(r, 'exemptIf', path, out, { allowed: REDACTION_EXEMPTIONS })!,
      };
    }
    case 'third-country-transfer':
      return {
        kind,
        area: readList(r, 'area', path, out, { allowed: MEMBERSHIPS, nonEmpty: true })!,
        recognisedAgreements: readList(r, 'recognisedAgreements', path, out, {
          pattern: AGREEMENT_CODE,
          patternHint: 'an agreement code',
        })!,
      };
    case 'capital-offence':
      return {
        kind,
        recipientStatuses: readList(r, 'recipientStatuses', path, out, { allowed: DEATH_PENALTY_STATUSES, nonEmpty: true })!,
        assurances: readCodeMap(r, 'assurances', path, out, (value, at) => checkList(value, at, out, CODE_HINT))!,
      };
    case 'purpose-limits':
      return {
        kind,
        noticeTypes: readNoticeTypeMap(r, 'noticeTypes', path, out)!,
        agencies: readCodeMap(r, 'agencies', path, out, (value, at) => checkList<Purpose>(value, at, out, { allowed: PURPOSES }))!,
      };
    case 'review-hold':
      return {
        kind,
        noticeTypes: readList(r, 'noticeTypes', path, out, { allowed: NOTICE_TYPES, nonEmpty: true })!,
        purposes: readList(r, 'purposes', path, out, { allowed: PURPOSES, optional: true })!,
      };
    case 'new-member':
      return {
        kind,
        scopes: readList(r, 'scopes', path, out, { allowed: SCOPES, nonEmpty: true })!,
        exemptNoticeTypes: readList(r, 'exemptNoticeTypes', path, out, { allowed: NOTICE_TYPES, optional: true })!,
      };
    case 'exercise':
      return {
        kind,
        exerciseId: readString(r, 'exerciseId', path, out, { pattern: EXERCISE_ID, patternHint: 'an exercise id' })!,
        participants: readList(r, 'participants', path, out, { ...CODE_HINT, nonEmpty: true })!,
      };
    case 'execution-flag':
      return {
        kind,
        when: readEnum(r, 'when', FLAG_TRIGGERS, path, out)!,
        flag: readString(r, 'flag', path, out, { pattern: FLAG_NAME, patternHint: 'a flag name (CAPITALS_AND_UNDERSCORES)' })!,
      };
  }
}

/** A mapping from agency code to a list (checked by `item`); missing means empty. */
function readCodeMap<T>(
  r: YamlRecord,
  key: string,
  path: string,
  out: IssueCollector,
  item: (value: unknown, at: string) => T | undefined,
): Record<string, T> | undefined {
  const at = join(path, key);
  if (r[key] === undefined) return {};
  const record = asRecord(r[key], at, out);
  if (!record) return undefined;
  const result: Record<string, T> = {};
  for (const [code, value] of Object.entries(record)) {
    if (!AGENCY_CODE.test(code)) {
      out.add(join(at, code), `"${code}" is not an agency code`);
      continue;
    }
    const checked = item(value, join(at, code));
    if (checked !== undefined) result[code] = checked;
  }
  return result;
}

function readNoticeTypeMap(
  r: YamlRecord,
  key: string,
  path: string,
  out: IssueCollector,
): Partial<Record<NoticeType, Purpose[]>> | undefined {
  const at = join(path, key);
  if (r[key] === undefined) return {};
  const record = asRecord(r[key], at, out);
  if (!record) return undefined;
  const result: Partial<Record<NoticeType, Purpose[]>> = {};
  for (const [type, value] of Object.entries(record)) {
    if (!(NOTICE_TYPES as readonly string[]).includes(type)) {
      out.add(join(at, type), `"${type}" is not a notice type (${NOTICE_TYPES.join(', ')})`);
      continue;
    }
    const purposes = checkList<Purpose>(value, join(at, type), out, { allowed: PURPOSES });
    if (purposes) result[type as NoticeType] = purposes;
  }
  return result;
}

/** Cross-rule checks: the guarantees docs/ARCHITECTURE promise must be stated by every version. */
function checkDocumentInvariants(rules: readonly PolicyRule[], pathOf: (rule: PolicyRule) => string, out: IssueCollector): void {
  for (const kind of SINGLETON_KINDS) {
    const ofKind = rules.filter((rule) => rule.kind === kind);
    for (const extra of ofKind.slice(1)) out.add(pathOf(extra), `a document may hold only one ${kind} rule (first: ${ofKind[0]!.id})`);
  }
  const victim = rules.find((rule) => rule.kind === 'victim-protection');
  if (!victim) {
    out.add('rules', 'a victim-protection rule is required: victim details must reach only victim-support agencies');
  } else {
    for (const category of ['TRAFFICKING_VICTIM', 'MISSING_MINOR'] as const) {
      if (!victim.categories.includes(category)) out.add(`${pathOf(victim)}.categories`, `must include ${category}`);
    }
  }
  if (!rules.some((rule) => rule.kind === 'execution-flag' && rule.when === 'do-not-act-on')) {
    out.add('rules', 'an execution-flag rule with when: do-not-act-on is required: do-not-act-on territories must reach the recipients');
  }
  const hasTransfer = rules.some((rule) => rule.kind === 'third-country-transfer');
  const exercises = new Map<string, string>();
  const flags = new Set<string>();
  for (const rule of rules) {
    if (rule.kind === 'redaction' && !hasTransfer) {
      if (rule.originators === 'area')
        out.add(`${pathOf(rule)}.originators`, 'area needs a third-country-transfer rule (it defines the area)');
      for (const exemption of rule.exemptIf) {
        if (exemption === 'areaMember' || exemption === 'agreement') {
          out.add(
            `${pathOf(rule)}.exemptIf`,
            `${exemption} needs a third-country-transfer rule (it defines the area and the recognised agreements)`,
          );
        }
      }
    }
    if (rule.kind === 'exercise') {
      const first = exercises.get(rule.exerciseId);
      if (first !== undefined) out.add(`${pathOf(rule)}.exerciseId`, `exercise ${rule.exerciseId} is already defined by rule ${first}`);
      else exercises.set(rule.exerciseId, rule.id);
    }
    if (rule.kind === 'execution-flag') {
      const key = `${rule.when}→${rule.flag}`;
      if (flags.has(key)) out.add(`${pathOf(rule)}.flag`, `flag ${rule.flag} is already attached for ${rule.when}`);
      flags.add(key);
    }
  }
}
