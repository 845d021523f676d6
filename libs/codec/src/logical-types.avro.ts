// The logical types our schemas use, so that decoded values have the JavaScript types of
// alert.types.ts and invalid values are rejected at the edge instead of deep inside a consumer.
import avro from 'avsc';
import type { Schema, Type } from 'avsc';
import { ExactLongType } from './exact-integers.type.js';

const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** RFC 9562 textual form (8-4-4-4-12 hex digits, either case). Any version or variant is accepted. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && value.length === 36 && UUID_PATTERN.test(value);
}

/** Milliseconds a JavaScript Date can hold (ECMA-262 time value range). */
const MAX_TIME_MS = 8.64e15;

/** `{"type": "string", "logicalType": "uuid"}` ⇄ a UUID string. */
export class UuidType extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): string {
    // A read past the end of a truncated buffer yields undefined: let the decoder report
    // TRUNCATED rather than a misleading invalid-uuid error.
    if (val === undefined) return val as unknown as string;
    if (!isUuid(val)) throw new Error(`not a UUID: ${describe(val)}`);
    return val;
  }

  protected override _toValue(val: unknown): string | undefined {
    // avsc treats undefined as "not valid for this type" in _check and unions.
    return isUuid(val) ? val : undefined;
  }

  protected override _resolve(writer: Type): ((val: unknown) => string) | undefined {
    if (writer instanceof UuidType || avro.Type.isType(writer, 'string')) return (val) => this._fromValue(val);
    return undefined;
  }
}

/** `{"type": "long", "logicalType": "timestamp-millis"}` ⇄ a valid Date. */
export class TimestampMillisType extends avro.types.LogicalType {
  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    // avsc's own long is inexact below -2^52 (see exact-integers.type.ts); logical types are not
    // frozen, so the underlying type can be swapped before any use.
    (this as unknown as { _underlyingType: Type })._underlyingType = new ExactLongType();
  }

  protected override _fromValue(val: unknown): Date {
    if (typeof val !== 'number' || !Number.isInteger(val) || Math.abs(val) > MAX_TIME_MS) {
      throw new Error(`not a timestamp-millis within the Date range: ${describe(val)}`);
    }
    return new Date(val);
  }

  protected override _toValue(val: unknown): number | undefined {
    if (!(val instanceof Date)) return undefined;
    const ms = val.getTime();
    return Number.isNaN(ms) ? undefined : ms;
  }

  protected override _resolve(writer: Type): ((val: unknown) => Date) | undefined {
    // The writer's own logical type has already turned the long into a Date.
    if (writer instanceof TimestampMillisType) return (val) => val as Date;
    if (avro.Type.isType(writer, 'long', 'int')) return (val) => this._fromValue(val);
    return undefined;
  }
}

export const LOGICAL_TYPES = {
  uuid: UuidType,
  'timestamp-millis': TimestampMillisType,
} as const;

/** Never echo the value itself: alert fields carry personal data and errors end up in logs. */
function describe(val: unknown): string {
  if (val === null) return 'null';
  if (val instanceof Date) return 'Date';
  if (typeof val === 'string') return `a string of length ${val.length}`;
  if (typeof val === 'number') return Number.isFinite(val) ? 'a number' : String(val);
  return typeof val;
}
