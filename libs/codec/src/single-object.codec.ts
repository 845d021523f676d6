// Avro single-object encoding: C3 01, the writer schema's 8-byte CRC-64-AVRO fingerprint
// (little-endian), then the Avro binary body. Any Avro implementation can decode such a
// record with the schema files alone.
import avro from 'avsc';
import type { Type } from 'avsc';
import { BlockCountError } from './bounded-reads.guard.js';
import { CodecError } from './codec.error.js';
import type { SchemaLookup, SchemaVersion } from './schema-version.types.js';

export const SINGLE_OBJECT_MARKER: readonly [number, number] = [0xc3, 0x01];
export const SINGLE_OBJECT_HEADER_LENGTH = 10;

/** True when the bytes start with the single-object marker and hold a whole header. */
export function isSingleObject(buf: Uint8Array): boolean {
  return buf.length >= SINGLE_OBJECT_HEADER_LENGTH && buf[0] === 0xc3 && buf[1] === 0x01;
}

/** What every codec offers. */
export interface SingleObjectCodec<T> {
  /** Short name of the record, e.g. `Alert`. */
  readonly recordName: string;
  /** The version this codec writes and reads into (the newest unless pinned). */
  readonly schemaVersion: number;
  /** CRC-64-AVRO of the writer schema, 8 bytes little-endian, as written after the marker. */
  readonly fingerprint: Buffer;
  /** @throws CodecError INVALID_VALUE, naming the offending field paths. */
  encode(value: T): Buffer;
  /** @throws CodecError, never anything else. */
  decode(buf: Buffer): T;
}

export interface RecordCodecOptions {
  /**
   * Pin the version written and read into, e.g. to keep writing v1 until every consumer
   * has the v2 schema file. Default: the newest.
   */
  readonly version?: number;
}

type Resolver = ReturnType<Type['createResolver']>;

/** How to read one writer fingerprint: as is, through a resolver, or not at all. */
type ReadPlan = { readonly resolver: Resolver | undefined } | { readonly incompatible: string };

const INITIAL_SCRATCH = 8 * 1024;
/** A scratch buffer grown past this for one huge record is dropped after use. */
const MAX_RETAINED_SCRATCH = 1024 * 1024;

export class RecordCodec<T> implements SingleObjectCodec<T> {
  readonly recordName: string;
  readonly schemaVersion: number;
  readonly fingerprint: Buffer;
  readonly writer: SchemaVersion;

  private readonly type: Type;
  private readonly header: Buffer;
  // The writer fingerprint as two 32-bit words, so the common case (our own writer schema)
  // is recognised without allocating a key.
  private readonly fpLow: number;
  private readonly fpHigh: number;
  private readonly plans = new Map<string, ReadPlan>();
  private scratch: Buffer;

  constructor(
    private readonly catalog: SchemaLookup,
    recordName: string,
    options: RecordCodecOptions = {},
  ) {
    this.writer = options.version === undefined ? catalog.latest(recordName) : catalog.version(recordName, options.version);
    this.recordName = this.writer.recordName;
    this.schemaVersion = this.writer.version;
    this.type = this.writer.type;
    this.fingerprint = Buffer.from(this.writer.fingerprint);
    this.header = Buffer.concat([Buffer.from(SINGLE_OBJECT_MARKER), this.writer.fingerprint]);
    this.fpLow = this.header.readUInt32LE(2);
    this.fpHigh = this.header.readUInt32LE(6);
    this.scratch = this.newScratch(INITIAL_SCRATCH);
    // Resolvers are built once per writer version here, never per record.
    for (const v of catalog.versions(recordName)) {
      if (v.fingerprintHex === this.writer.fingerprintHex) {
        this.plans.set(v.fingerprintHex, { resolver: undefined });
        continue;
      }
      try {
        this.plans.set(v.fingerprintHex, { resolver: this.type.createResolver(v.type) });
      } catch (err) {
        this.plans.set(v.fingerprintHex, {
          incompatible: `${v.fullName} v${v.version} cannot be read as v${this.schemaVersion}: ${(err as Error).message}`,
        });
      }
    }
  }

  encode(value: T): Buffer {
    let end: number;
    try {
      end = this.type.encode(value, this.scratch, SINGLE_OBJECT_HEADER_LENGTH);
      while (end < 0) {
        // avsc returns minus the missing byte count when the buffer is too small.
        this.scratch = this.newScratch(Math.max(this.scratch.length * 2, this.scratch.length - end));
        end = this.type.encode(value, this.scratch, SINGLE_OBJECT_HEADER_LENGTH);
      }
    } catch {
      // avsc's own message quotes the value, which may be personal data: describe it instead.
      throw this.invalidValue(value);
    }
    const out = Buffer.allocUnsafe(end);
    this.scratch.copy(out, 0, 0, end);
    if (this.scratch.length > MAX_RETAINED_SCRATCH) this.scratch = this.newScratch(INITIAL_SCRATCH);
    return out;
  }

  decode(buf: Buffer): T {
    if (!Buffer.isBuffer(buf)) throw new CodecError('INVALID_BODY', `expected a Buffer, got ${typeof buf}`);
    if ((buf.length > 0 && buf[0] !== 0xc3) || (buf.length > 1 && buf[1] !== 0x01)) {
      throw new CodecError('BAD_MARKER', `not single-object encoded: starts with ${buf.subarray(0, 2).toString('hex')}, not c301`);
    }
    if (buf.length < SINGLE_OBJECT_HEADER_LENGTH) {
      throw new CodecError('TRUNCATED', `${buf.length} bytes, shorter than the ${SINGLE_OBJECT_HEADER_LENGTH}-byte header`);
    }
    let resolver: Resolver | undefined;
    if (buf.readUInt32LE(2) !== this.fpLow || buf.readUInt32LE(6) !== this.fpHigh) {
      resolver = this.resolverFor(buf.toString('hex', 2, SINGLE_OBJECT_HEADER_LENGTH));
    }
    let decoded: { value: unknown; offset: number };
    try {
      decoded = this.type.decode(buf, SINGLE_OBJECT_HEADER_LENGTH, resolver);
    } catch (err) {
      if (err instanceof BlockCountError) throw new CodecError('TRUNCATED', err.message, { cause: err });
      throw new CodecError('INVALID_BODY', `${this.recordName}: ${(err as Error).message}`, { cause: err });
    }
    if (decoded.offset < 0) throw new CodecError('TRUNCATED', `${this.recordName} body ends early (${buf.length} bytes)`);
    if (decoded.offset !== buf.length) {
      throw new CodecError('TRAILING_BYTES', `${buf.length - decoded.offset} bytes after the ${this.recordName} body`);
    }
    return decoded.value as T;
  }

  private resolverFor(fingerprintHex: string): Resolver | undefined {
    const plan = this.plans.get(fingerprintHex);
    if (plan === undefined) {
      const known = this.catalog.byFingerprint(fingerprintHex);
      if (known) {
        throw new CodecError(
          'INCOMPATIBLE_SCHEMA',
          `fingerprint ${fingerprintHex} is ${known.fullName} v${known.version}, not ${this.writer.fullName}`,
        );
      }
      throw new CodecError('UNKNOWN_FINGERPRINT', `no schema with fingerprint ${fingerprintHex} (expected ${this.writer.fullName})`);
    }
    if ('incompatible' in plan) throw new CodecError('INCOMPATIBLE_SCHEMA', plan.incompatible);
    return plan.resolver;
  }

  private newScratch(size: number): Buffer {
    const scratch = Buffer.allocUnsafeSlow(size);
    this.header.copy(scratch, 0);
    return scratch;
  }

  private invalidValue(value: unknown): CodecError {
    const problems: string[] = [];
    this.type.isValid(value, {
      errorHook: (path: string[], val: unknown, type: Type) => {
        problems.push(`${formatPath(path)}: expected ${describeType(type)}, got ${describeValue(val)}`);
      },
    });
    const paths = problems.length > 0 ? problems : ['<root>: not encodable'];
    return new CodecError('INVALID_VALUE', `invalid ${this.recordName}: ${paths.join('; ')}`);
  }
}

function formatPath(path: readonly string[]): string {
  if (path.length === 0) return '<root>';
  return path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function describeType(type: Type): string {
  if (avro.Type.isType(type, 'enum')) return `one of ${(type as unknown as { symbols: string[] }).symbols.join('|')}`;
  if (avro.Type.isType(type, 'union')) {
    return (type as unknown as { types: Type[] }).types.map(describeType).join(' or ');
  }
  if (avro.Type.isType(type, 'logical')) return type.typeName.slice('logical:'.length);
  return type.name ?? type.typeName;
}

/** Never the value itself: alert fields carry personal data and errors end up in logs. */
function describeValue(val: unknown): string {
  if (val === null) return 'null';
  if (val === undefined) return 'nothing';
  if (Array.isArray(val)) return 'an array';
  if (val instanceof Date) return Number.isNaN(val.getTime()) ? 'an invalid Date' : 'a Date';
  if (Buffer.isBuffer(val)) return 'a Buffer';
  if (typeof val === 'string') return `a string of length ${val.length}`;
  if (typeof val === 'number') return Number.isInteger(val) ? 'an integer' : 'a non-integer number';
  return `a ${typeof val}`;
}
