// What every store downstream of an Avro record can hold. The Avro contracts accept any Unicode
// string and any long as timestamp-millis, but PostgreSQL (publisher bookkeeping, the gate's
// holds, every agency inbox, the audit ledger) refuses some of them: a record that Kafka carried
// and a consumer cannot store stops that consumer's partition. Every path that creates records
// (publisher create/update/cancel, hold release, audit replay) checks them here, at the edge, so
// the edges cannot drift apart.

/** Why a value cannot be stored; stable names clients and dead-letter readers can switch on. */
export const UNSTORABLE_REASONS = {
  /** U+0000: PostgreSQL text and jsonb refuse it ("invalid byte sequence", "unsupported Unicode escape"). */
  nul: 'nul-character',
  /** An unpaired UTF-16 surrogate: not valid UTF-8; jsonb refuses its escape, text silently mangles it. */
  loneSurrogate: 'lone-surrogate',
  /** A time outside what both PostgreSQL timestamptz and Avro timestamp-millis (as a Date) hold. */
  timestampRange: 'timestamp-out-of-range',
  /** An invalid Date (NaN): no store holds it. */
  invalidTimestamp: 'invalid-timestamp',
} as const;
export type UnstorableReason = (typeof UNSTORABLE_REASONS)[keyof typeof UNSTORABLE_REASONS];

/**
 * Earliest instant PostgreSQL timestamptz stores: 4714-11-24 00:00:00 UTC BC (proleptic
 * Gregorian), i.e. astronomical year -4713. JavaScript Dates reach further back; PostgreSQL does not.
 */
export const STORABLE_TIME_MIN_MS = Date.UTC(-4713, 10, 24);
/**
 * Latest instant: the end of the JavaScript Date range (+275760-09-13), which is what a decoded
 * timestamp-millis can be; PostgreSQL's own limit (294276 AD) lies beyond it.
 */
export const STORABLE_TIME_MAX_MS = 8.64e15;

/** The first reason a string cannot be stored, or null when every store holds it. */
export function unstorableString(s: string): UnstorableReason | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return UNSTORABLE_REASONS.nul;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return UNSTORABLE_REASONS.loneSurrogate;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return UNSTORABLE_REASONS.loneSurrogate;
  }
  return null;
}

/**
 * The string with every NUL and unpaired surrogate replaced by U+FFFD: for text a service writes
 * about a refused input (field pointers, audit details), never for the input itself.
 */
export function storableText(s: string): string {
  return unstorableString(s) === null
    ? s
    : s.replace(/\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** The reason a time cannot be stored, or null. */
export function unstorableTimestamp(d: Date): UnstorableReason | null {
  const ms = d.getTime();
  if (Number.isNaN(ms)) return UNSTORABLE_REASONS.invalidTimestamp;
  if (ms < STORABLE_TIME_MIN_MS || ms > STORABLE_TIME_MAX_MS) return UNSTORABLE_REASONS.timestampRange;
  return null;
}

export interface UnstorableField {
  /** RFC 6901 JSON pointer into the checked value, e.g. `/headline` or `/subject/forenames`. */
  readonly field: string;
  readonly reason: UnstorableReason;
}

/** A human sentence for a reason, for problem details and logs. */
export function describeUnstorable(reason: UnstorableReason): string {
  switch (reason) {
    case UNSTORABLE_REASONS.nul:
      return 'must not contain the NUL character (U+0000)';
    case UNSTORABLE_REASONS.loneSurrogate:
      return 'must be valid Unicode (no unpaired surrogate code unit)';
    case UNSTORABLE_REASONS.timestampRange:
      return `must be between ${new Date(STORABLE_TIME_MIN_MS).toISOString()} and ${new Date(STORABLE_TIME_MAX_MS).toISOString()}`;
    case UNSTORABLE_REASONS.invalidTimestamp:
      return 'must be a valid date-time';
  }
}

function pointer(parent: string, key: string | number): string {
  return `${parent}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/**
 * Every field of a record (alert, delivery, audit event, or a request body) that no store can
 * hold: strings (and object keys) anywhere, Dates anywhere. Bytes (Buffer, Uint8Array) are
 * opaque and always storable (bytea). Depth is bounded by the caller's input (decoded Avro
 * records and parsed JSON bodies are finite trees).
 */
export function unstorableFields(value: unknown, at = ''): UnstorableField[] {
  const out: UnstorableField[] = [];
  const walk = (v: unknown, here: string): void => {
    if (typeof v === 'string') {
      const reason = unstorableString(v);
      if (reason) out.push({ field: here || '/', reason });
    } else if (v instanceof Date) {
      const reason = unstorableTimestamp(v);
      if (reason) out.push({ field: here || '/', reason });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, pointer(here, i)));
    } else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) {
      for (const [k, item] of Object.entries(v)) {
        const keyReason = unstorableString(k);
        // A bad key cannot be named faithfully in a pointer: report it with the bad bytes replaced.
        if (keyReason) out.push({ field: pointer(here, storableText(k)), reason: keyReason });
        else walk(item, pointer(here, k));
      }
    }
  };
  walk(value, at);
  return out;
}

/** Thrown by record-creating paths that are handed a record no store can hold. */
export class UnstorableRecordError extends Error {
  override readonly name = 'UnstorableRecordError';
  constructor(readonly fields: readonly UnstorableField[]) {
    super(`record cannot be stored: ${fields.map((f) => `${f.field} ${f.reason}`).join(', ')}`);
  }
}

/** Throws UnstorableRecordError when any field of `value` cannot be stored. */
export function assertStorable(value: unknown): void {
  const fields = unstorableFields(value);
  if (fields.length > 0) throw new UnstorableRecordError(fields);
}
