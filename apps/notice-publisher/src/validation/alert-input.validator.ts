// Validates what a liaison office submits, before anything reaches Kafka. Every problem is
// reported at once, each naming its field as a JSON pointer, so a client can fix them all in
// one round trip. The result is exactly what the server completes into an Avro Alert.
import {
  ADDRESSING_MODES,
  CERTAINTIES,
  DOCUMENT_KINDS,
  HANDLING_CODES,
  NOTICE_TYPES,
  PURPOSES,
  REGIONS,
  SCOPES,
  SEVERITIES,
  SOURCE_RELIABILITIES,
  STATUSES,
  TLPS,
  URGENCIES,
  VICTIM_CATEGORIES,
  describeUnstorable,
  storableText,
  unstorableString,
  unstorableTimestamp,
  type Alert,
} from '@backbone/codec';
import type { FieldProblem } from '@backbone/bootstrap';
import { isIsoCountry } from '@backbone/policy';
import type { AgencyDirectory } from '../registry/agency-directory.js';

/** The part of an alert a liaison office writes; the server assigns the rest. */
export type AlertContent = Omit<Alert, 'alertId' | 'version' | 'sender' | 'senderRegion' | 'sent' | 'msgType' | 'references'>;

/** Fields the server assigns: naming them in a body is refused, never silently overwritten. */
export const SERVER_ASSIGNED_FIELDS = ['alertId', 'version', 'sender', 'senderRegion', 'sent', 'msgType', 'references'] as const;

/** Stable error codes clients can switch on; docs/liaison-office.md lists them. */
export const VALIDATION_CODES = {
  required: 'required',
  type: 'invalid-type',
  enum: 'invalid-enum',
  range: 'out-of-range',
  length: 'invalid-length',
  format: 'invalid-format',
  unknownField: 'unknown-field',
  forbiddenField: 'forbidden-field',
  unknownAgency: 'unknown-agency',
  unknownCountry: 'unknown-country',
  expired: 'expired',
  addressesRequired: 'addresses-required',
  exerciseIdRequired: 'exercise-id-required',
  exerciseIdNotAllowed: 'exercise-id-not-allowed',
  duplicate: 'duplicate',
} as const;

type Spec =
  | { t: 'string'; min?: number; max?: number; pattern?: RegExp; patternHint?: string }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'int'; min: number; max: number }
  | { t: 'bool' }
  | { t: 'timestamp' }
  | { t: 'agency' }
  | { t: 'country' }
  | { t: 'array'; items: Spec; max?: number; unique?: boolean }
  | { t: 'record'; fields: Readonly<Record<string, Field>> };

interface Field {
  spec: Spec;
  /** Absent from the body: required fields are errors, others take this default (Avro defaults). */
  required?: boolean;
  nullable?: boolean;
  default?: () => unknown;
}

const req = (spec: Spec): Field => ({ spec, required: true });
const opt = (spec: Spec, dflt: () => unknown): Field => ({ spec, default: dflt });
const nullable = (spec: Spec): Field => ({ spec, nullable: true, default: () => null });
const list = (items: Spec, max = 500): Field => opt({ t: 'array', items, max, unique: true }, () => []);
const text = (max: number, min = 1): Spec => ({ t: 'string', min, max });

const SUBJECT: Spec = {
  t: 'record',
  fields: {
    familyName: nullable(text(200)),
    forenames: nullable(text(200)),
    dateOfBirth: nullable({
      t: 'string',
      pattern: /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/,
      patternHint: 'YYYY, YYYY-MM or YYYY-MM-DD',
    }),
    nationalities: list({ t: 'country' }, 20),
    sex: nullable({ t: 'enum', values: ['F', 'M', 'X', 'U'] }),
    biometrics: nullable({
      t: 'record',
      fields: {
        fingerprintRefs: list(text(200), 50),
        dnaProfileRef: nullable(text(200)),
        photoRefs: list(text(200), 50),
      },
    }),
    identityDocuments: opt(
      {
        t: 'array',
        max: 50,
        items: {
          t: 'record',
          fields: {
            kind: req({ t: 'enum', values: DOCUMENT_KINDS }),
            number: req(text(100)),
            issuingCountry: req({ t: 'country' }),
          },
        },
      },
      () => [],
    ),
    victim: nullable({
      t: 'record',
      fields: {
        category: req({ t: 'enum', values: VICTIM_CATEGORIES }),
        details: req(text(10_000)),
        lastSeen: nullable(text(200)),
      },
    }),
  },
};

const CONTENT_FIELDS: Readonly<Record<string, Field>> = {
  status: req({ t: 'enum', values: STATUSES }),
  exerciseId: nullable({
    t: 'string',
    min: 1,
    max: 100,
    pattern: /^[A-Za-z0-9._-]+$/,
    patternHint: 'letters, digits, dot, dash, underscore',
  }),
  scope: req({ t: 'enum', values: SCOPES }),
  noticeType: req({ t: 'enum', values: NOTICE_TYPES }),
  purposes: list({ t: 'enum', values: PURPOSES }, PURPOSES.length),
  headline: req(text(300)),
  description: req(text(20_000)),
  urgency: req({ t: 'enum', values: URGENCIES }),
  severity: req({ t: 'enum', values: SEVERITIES }),
  certainty: req({ t: 'enum', values: CERTAINTIES }),
  tlp: req({ t: 'enum', values: TLPS }),
  handlingCode: req({ t: 'enum', values: HANDLING_CODES }),
  sourceReliability: req({ t: 'enum', values: SOURCE_RELIABILITIES }),
  informationAccuracy: req({ t: 'int', min: 1, max: 4 }),
  addressing: req({
    t: 'record',
    fields: {
      mode: req({ t: 'enum', values: ADDRESSING_MODES }),
      regions: list({ t: 'enum', values: REGIONS }, REGIONS.length),
      agencies: list({ t: 'agency' }),
    },
  }),
  releasableTo: list({ t: 'agency' }),
  neverTo: list({ t: 'agency' }),
  consentedThirdCountries: list({ t: 'agency' }),
  capitalOffence: opt({ t: 'bool' }, () => false),
  doNotActOn: list({ t: 'country' }, 250),
  expires: nullable({ t: 'timestamp' }),
  area: req({
    t: 'record',
    fields: {
      description: req(text(1000)),
      countries: list({ t: 'country' }, 250),
    },
  }),
  subject: nullable(SUBJECT),
};

/** RFC 6901: `~` and `/` inside a key are escaped. */
function pointer(parent: string, key: string | number): string {
  // A key that no store can hold is named with the bad code units replaced: the pointer itself is
  // written to the audit log (REJECTED events) and must stay storable.
  return `${parent}/${storableText(String(key)).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

class Walker {
  readonly errors: FieldProblem[] = [];
  constructor(private readonly agencies: AgencyDirectory) {}

  fail(field: string, code: string, message: string, params?: Record<string, string | number>): undefined {
    this.errors.push({ field, code, message, ...(params ? { params } : {}) });
    return undefined;
  }

  record(
    value: unknown,
    fields: Readonly<Record<string, Field>>,
    at: string,
    forbidden: readonly string[] = [],
  ): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return this.fail(at || '/', VALIDATION_CODES.type, 'must be an object');
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) {
      if (forbidden.includes(key))
        this.fail(pointer(at, key), VALIDATION_CODES.forbiddenField, `${key} is assigned by the server and must not be sent`);
      else if (!Object.hasOwn(fields, key))
        this.fail(pointer(at, key), VALIDATION_CODES.unknownField, `unknown field ${storableText(key)}`);
    }
    for (const [key, field] of Object.entries(fields)) {
      const here = pointer(at, key);
      const raw = Object.hasOwn(obj, key) ? obj[key] : undefined;
      if (raw === undefined) {
        if (field.required) this.fail(here, VALIDATION_CODES.required, `${key} is required`);
        else out[key] = field.default?.();
        continue;
      }
      if (raw === null) {
        if (field.nullable) out[key] = null;
        else this.fail(here, field.required ? VALIDATION_CODES.required : VALIDATION_CODES.type, `${key} must not be null`);
        continue;
      }
      out[key] = this.value(raw, field.spec, here);
    }
    return out;
  }

  value(raw: unknown, spec: Spec, at: string): unknown {
    switch (spec.t) {
      case 'string': {
        if (typeof raw !== 'string') return this.fail(at, VALIDATION_CODES.type, 'must be a string');
        // The shared storable rules (libs/codec): what no downstream store could hold is refused here.
        const unstorable = unstorableString(raw);
        if (unstorable) return this.fail(at, unstorable, describeUnstorable(unstorable));
        if (spec.min !== undefined && raw.trim().length < spec.min)
          return this.fail(at, VALIDATION_CODES.length, `must have at least ${spec.min} non-blank character(s)`, { min: spec.min });
        if (spec.max !== undefined && raw.length > spec.max)
          return this.fail(at, VALIDATION_CODES.length, `must have at most ${spec.max} characters`, { max: spec.max });
        if (spec.pattern && !spec.pattern.test(raw))
          return this.fail(at, VALIDATION_CODES.format, `must be ${spec.patternHint ?? String(spec.pattern)}`);
        return raw;
      }
      case 'enum':
        if (typeof raw !== 'string' || !spec.values.includes(raw))
          return this.fail(at, VALIDATION_CODES.enum, `must be one of ${spec.values.join(', ')}`);
        return raw;
      case 'int':
        if (typeof raw !== 'number' || !Number.isInteger(raw)) return this.fail(at, VALIDATION_CODES.type, 'must be an integer');
        if (raw < spec.min || raw > spec.max)
          return this.fail(at, VALIDATION_CODES.range, `must be between ${spec.min} and ${spec.max}`, { min: spec.min, max: spec.max });
        return raw;
      case 'bool':
        if (typeof raw !== 'boolean') return this.fail(at, VALIDATION_CODES.type, 'must be true or false');
        return raw;
      case 'timestamp': {
        if (typeof raw !== 'string' || !RFC3339.test(raw))
          return this.fail(at, VALIDATION_CODES.format, 'must be an RFC 3339 date-time with a time zone, e.g. 2026-12-31T23:59:59Z');
        const date = new Date(raw);
        if (Number.isNaN(date.getTime())) return this.fail(at, VALIDATION_CODES.format, 'is not a valid date-time');
        const unstorable = unstorableTimestamp(date);
        if (unstorable) return this.fail(at, unstorable, describeUnstorable(unstorable));
        return date;
      }
      case 'agency':
        if (typeof raw !== 'string') return this.fail(at, VALIDATION_CODES.type, 'must be an agency code string');
        if (!this.agencies.has(raw)) {
          // Refused, never corrected: the originator must state exactly whom it means.
          const near = raw.trim().toUpperCase();
          const hint = near !== raw && this.agencies.has(near) ? ` (differs from registry code ${near} by case or spacing)` : '';
          return this.fail(at, VALIDATION_CODES.unknownAgency, `${JSON.stringify(raw)} is not an agency of the registry${hint}`);
        }
        return raw;
      case 'country':
        if (typeof raw !== 'string') return this.fail(at, VALIDATION_CODES.type, 'must be an ISO 3166-1 alpha-2 code string');
        if (!isIsoCountry(raw)) return this.fail(at, VALIDATION_CODES.unknownCountry, `${raw} is not an ISO 3166-1 alpha-2 country code`);
        return raw;
      case 'array': {
        if (!Array.isArray(raw)) return this.fail(at, VALIDATION_CODES.type, 'must be an array');
        if (spec.max !== undefined && raw.length > spec.max)
          return this.fail(at, VALIDATION_CODES.length, `must have at most ${spec.max} items`, { maxItems: spec.max });
        const seen = new Set<unknown>();
        return raw.map((item, i) => {
          const v = this.value(item, spec.items, pointer(at, i));
          if (spec.unique && typeof v === 'string') {
            if (seen.has(v)) this.fail(pointer(at, i), VALIDATION_CODES.duplicate, `${v} is listed twice`);
            seen.add(v);
          }
          return v;
        });
      }
      case 'record':
        return this.record(raw, spec.fields, at);
    }
  }
}

export type ValidationResult = { ok: true; content: AlertContent } | { ok: false; errors: FieldProblem[] };

/**
 * Schema conformance, registry codes, ISO countries, then the cross-field rules. `now` is
 * passed in so tests can pin the clock for the expiry rule.
 */
export function validateAlertContent(body: unknown, agencies: AgencyDirectory, now: Date = new Date()): ValidationResult {
  const w = new Walker(agencies);
  const out = w.record(body, CONTENT_FIELDS, '', SERVER_ASSIGNED_FIELDS);
  if (out === undefined || w.errors.length > 0) return { ok: false, errors: w.errors };
  const content = out as unknown as AlertContent;

  if (content.expires !== null && content.expires.getTime() <= now.getTime()) {
    w.fail('/expires', VALIDATION_CODES.expired, 'must be in the future');
  }
  if (content.status === 'Exercise' && content.exerciseId === null) {
    w.fail('/exerciseId', VALIDATION_CODES.exerciseIdRequired, 'is required when status is Exercise');
  }
  if (content.status !== 'Exercise' && content.exerciseId !== null) {
    // An exercise id on real traffic would let it leak into (or out of) an exercise.
    w.fail('/exerciseId', VALIDATION_CODES.exerciseIdNotAllowed, 'is only allowed when status is Exercise');
  }
  const { mode, agencies: addressed, regions } = content.addressing;
  // An empty recipient list means nobody, never everybody: refuse it rather than publish to no one.
  if (mode === 'EXPLICIT' && addressed.length === 0) {
    w.fail('/addressing/agencies', VALIDATION_CODES.addressesRequired, 'addressing mode EXPLICIT needs at least one agency');
  }
  if (mode === 'REGIONS' && regions.length === 0) {
    w.fail('/addressing/regions', VALIDATION_CODES.addressesRequired, 'addressing mode REGIONS needs at least one region');
  }
  if (content.noticeType === 'DIFFUSION' && mode === 'ALL') {
    w.fail('/addressing/mode', VALIDATION_CODES.addressesRequired, 'a DIFFUSION must be addressed (EXPLICIT or REGIONS), not ALL');
  }
  if (content.scope === 'Private' && mode !== 'EXPLICIT') {
    w.fail(
      '/addressing/mode',
      VALIDATION_CODES.addressesRequired,
      'scope Private needs addressing mode EXPLICIT with the addressed agencies',
    );
  }
  return w.errors.length > 0 ? { ok: false, errors: w.errors } : { ok: true, content };
}

/** The body of POST /alerts/{id}/cancel: optional, a note that replaces the description. */
export function validateCancelBody(body: unknown): { ok: true; note: string | null } | { ok: false; errors: FieldProblem[] } {
  if (body === undefined || body === null) return { ok: true, note: null };
  const w = new Walker({ has: () => false, get: () => undefined });
  const out = w.record(body, { note: nullable(text(20_000)) }, '', SERVER_ASSIGNED_FIELDS);
  if (out === undefined || w.errors.length > 0) return { ok: false, errors: w.errors };
  return { ok: true, note: (out['note'] as string | null) ?? null };
}

/** JSON Schema of the submitted content, derived from the same specs the validator runs (OpenAPI uses it). */
export function alertContentJsonSchema(): Record<string, unknown> {
  const field = (f: Field): Record<string, unknown> => {
    const s = specSchema(f.spec);
    return f.nullable ? { anyOf: [s, { type: 'null' }] } : s;
  };
  const record = (fields: Readonly<Record<string, Field>>): Record<string, unknown> => ({
    type: 'object',
    additionalProperties: false,
    required: Object.entries(fields)
      .filter(([, f]) => f.required)
      .map(([k]) => k),
    properties: Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, field(f)])),
  });
  const specSchema = (spec: Spec): Record<string, unknown> => {
    switch (spec.t) {
      case 'string':
        return {
          type: 'string',
          ...(spec.min !== undefined ? { minLength: spec.min } : {}),
          ...(spec.max !== undefined ? { maxLength: spec.max } : {}),
          ...(spec.pattern ? { pattern: spec.pattern.source } : {}),
        };
      case 'enum':
        return { type: 'string', enum: [...spec.values] };
      case 'int':
        return { type: 'integer', minimum: spec.min, maximum: spec.max };
      case 'bool':
        return { type: 'boolean' };
      case 'timestamp':
        return { type: 'string', format: 'date-time' };
      case 'agency':
        return { type: 'string', description: 'Agency code of the registry (policies/registry.yaml)', example: 'DE-NCB' };
      case 'country':
        return { type: 'string', pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 country code' };
      case 'array':
        return {
          type: 'array',
          items: specSchema(spec.items),
          ...(spec.max !== undefined ? { maxItems: spec.max } : {}),
          ...(spec.unique ? { uniqueItems: true } : {}),
        };
      case 'record':
        return record(spec.fields);
    }
  };
  return record(CONTENT_FIELDS);
}
