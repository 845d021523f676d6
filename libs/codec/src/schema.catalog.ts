// The Avro schemas of every record on Kafka, loaded once from schemas/*.avsc.
// Files are named <subject>.v<N>.avsc; the newest version of a subject is what we write and
// read into, and every older one stays decodable (resolved to the newest).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { Type } from 'avsc';
import { boundedCollectionsHook, hasBoundedCollections, zeroSizeArrayItems } from './bounded-reads.guard.js';
import { parsingCanonicalForm, type AvroSchemaJson } from './canonical-form.schema.js';
import { crc64Avro } from './crc64-avro.fingerprint.js';
import { CheckedIntType, ExactLongType } from './exact-integers.type.js';
import { LOGICAL_TYPES } from './logical-types.avro.js';
import type { SchemaLookup, SchemaVersion } from './schema-version.types.js';
import { RecordCodec, type RecordCodecOptions } from './single-object.codec.js';

export const SCHEMAS_DIR_ENV = 'BACKBONE_SCHEMAS_DIR';
const FILE_NAME = /^([a-z][a-z0-9-]*)\.v([1-9][0-9]*)\.avsc$/;

export interface SchemaSource {
  /** The file stem before `.v<N>`, e.g. `alert`. */
  readonly subject: string;
  readonly version: number;
  readonly schema: AvroSchemaJson;
  /** Where it came from, for error messages. */
  readonly origin: string;
}

export type { SchemaVersion } from './schema-version.types.js';

export class SchemaCatalogError extends Error {
  override readonly name = 'SchemaCatalogError';
}

export interface LocateOptions {
  /** An explicit directory wins over everything. */
  readonly dir?: string;
  /** Defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where to start walking up; defaults to this module's directory (src/ or dist/). */
  readonly from?: string;
}

/**
 * The schemas directory: `dir`, else $BACKBONE_SCHEMAS_DIR, else the first `schemas/` holding
 * .avsc files found walking up from this module, which works from the sources and from the
 * compiled dist/ tree alike.
 */
export function locateSchemasDir(options: LocateOptions = {}): string {
  const explicit = options.dir ?? (options.env ?? process.env)[SCHEMAS_DIR_ENV];
  if (explicit !== undefined && explicit !== '') {
    const dir = resolve(explicit);
    if (!isDirectory(dir))
      throw new SchemaCatalogError(
        `schemas directory ${dir} (from ${options.dir !== undefined ? 'option dir' : SCHEMAS_DIR_ENV}) does not exist`,
      );
    return dir;
  }
  const start = resolve(options.from ?? dirname(fileURLToPath(import.meta.url)));
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'schemas');
    if (isDirectory(candidate) && readdirSync(candidate).some((f) => f.endsWith('.avsc'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new SchemaCatalogError(`no schemas/ directory with .avsc files above ${start}; set ${SCHEMAS_DIR_ENV}`);
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Reads every <subject>.v<N>.avsc in `dir`; any other .avsc name is an error, not skipped. */
export function readSchemaSources(dir: string): SchemaSource[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.avsc'))
    .sort()
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new SchemaCatalogError(`${join(dir, file)}: schema files must be named <subject>.v<N>.avsc`);
      const origin = join(dir, file);
      let schema: AvroSchemaJson;
      try {
        schema = JSON.parse(readFileSync(origin, 'utf8')) as AvroSchemaJson;
      } catch (err) {
        throw new SchemaCatalogError(`${origin}: not valid JSON`, { cause: err });
      }
      return { subject: match[1]!, version: Number(match[2]), schema, origin };
    });
}

/**
 * Swaps in our safer implementations: arrays and maps that a hostile record cannot make loop
 * past its end, exact longs and range-checked ints. A schema carrying one of our logical types
 * is left alone: the hook runs before avsc applies logical types, and TimestampMillisType
 * swaps in its own exact long.
 */
function typeHook(schema: Parameters<typeof boundedCollectionsHook>[0], opts: unknown): Type | undefined {
  const bounded = boundedCollectionsHook(schema, opts);
  if (bounded) return bounded;
  if (schema === 'long') return new ExactLongType();
  if (schema === 'int') return new CheckedIntType();
  if (schema !== null && typeof schema === 'object' && !Array.isArray(schema)) {
    const { type, logicalType } = schema as { type?: unknown; logicalType?: unknown };
    if (typeof logicalType === 'string' && logicalType in LOGICAL_TYPES) return undefined;
    if (type === 'long') return new ExactLongType();
    if (type === 'int') return new CheckedIntType();
  }
  return undefined;
}

function parse(source: SchemaSource): SchemaVersion {
  const where = source.origin;
  let type: Type;
  try {
    type = avro.Type.forSchema(source.schema as Parameters<typeof avro.Type.forSchema>[0], {
      logicalTypes: LOGICAL_TYPES,
      // A registry per file: two versions of one subject define the same names.
      registry: {},
      // Decoded records carry no avsc methods (clone, toBuffer, …), only their fields.
      omitRecordMethods: true,
      // Nullable fields are plain `T | null`, as in alert.types.ts; ambiguous unions fail here.
      wrapUnions: 'never',
      typeHook,
    });
  } catch (err) {
    throw new SchemaCatalogError(`${where}: ${(err as Error).message}`, { cause: err });
  }
  if (!avro.Type.isType(type, 'record')) throw new SchemaCatalogError(`${where}: the top-level schema must be a record`);
  const zeroSize = zeroSizeArrayItems(type);
  if (zeroSize.length > 0) throw new SchemaCatalogError(`${where}: array items must take at least one byte: ${zeroSize.join(', ')}`);
  if (!hasBoundedCollections(type)) throw new SchemaCatalogError(`${where}: internal error, an array or map escaped the bounded types`);
  let canonicalForm: string;
  try {
    canonicalForm = parsingCanonicalForm(source.schema);
  } catch (err) {
    throw new SchemaCatalogError(`${where}: ${(err as Error).message}`, { cause: err });
  }
  const fingerprint = crc64Avro(canonicalForm);
  const fullName = type.name!;
  return {
    subject: source.subject,
    version: source.version,
    fullName,
    recordName: fullName.slice(fullName.lastIndexOf('.') + 1),
    origin: where,
    schema: source.schema,
    canonicalForm,
    fingerprint,
    fingerprintHex: fingerprint.toString('hex'),
    type,
  };
}

export class SchemaCatalog implements SchemaLookup {
  private static defaultCatalog: SchemaCatalog | undefined;

  /** Versions of each record, oldest first, keyed by short record name. */
  private readonly byRecord = new Map<string, SchemaVersion[]>();
  private readonly byFingerprintHex = new Map<string, SchemaVersion>();
  private readonly codecs = new Map<string, RecordCodec<unknown>>();

  constructor(sources: readonly SchemaSource[]) {
    const bySubject = new Map<string, SchemaVersion[]>();
    for (const source of sources) {
      const parsed = parse(source);
      const list = bySubject.get(parsed.subject) ?? [];
      if (list.some((v) => v.version === parsed.version)) {
        throw new SchemaCatalogError(`${parsed.origin}: ${parsed.subject} v${parsed.version} is defined twice`);
      }
      list.push(parsed);
      bySubject.set(parsed.subject, list);
    }
    for (const [subject, versions] of bySubject) {
      versions.sort((a, b) => a.version - b.version);
      const newest = versions[versions.length - 1]!;
      for (const v of versions) {
        if (v.fullName !== newest.fullName) {
          throw new SchemaCatalogError(
            `${v.origin}: ${subject} versions disagree on the record name (${v.fullName} vs ${newest.fullName})`,
          );
        }
        try {
          newest.type.createResolver(v.type);
        } catch (err) {
          throw new SchemaCatalogError(`${newest.origin} cannot read data written with ${v.origin}: ${(err as Error).message}`, {
            cause: err,
          });
        }
      }
      if (this.byRecord.has(newest.recordName)) {
        throw new SchemaCatalogError(`${newest.origin}: record name ${newest.recordName} is used by two subjects`);
      }
      this.byRecord.set(newest.recordName, versions);
      for (const v of versions) {
        const clash = this.byFingerprintHex.get(v.fingerprintHex);
        // Versions differing only in docs or defaults share a fingerprint; either decodes the same.
        if (clash && clash.subject !== v.subject) {
          throw new SchemaCatalogError(`${v.origin} and ${clash.origin} have the same fingerprint ${v.fingerprintHex}`);
        }
        this.byFingerprintHex.set(v.fingerprintHex, v);
      }
    }
  }

  static fromDirectory(dir: string): SchemaCatalog {
    return new SchemaCatalog(readSchemaSources(dir));
  }

  /** The catalog of the repository's schemas/ (or $BACKBONE_SCHEMAS_DIR), loaded at first use. */
  static default(): SchemaCatalog {
    return (SchemaCatalog.defaultCatalog ??= SchemaCatalog.fromDirectory(locateSchemasDir()));
  }

  recordNames(): string[] {
    return [...this.byRecord.keys()];
  }

  /** Every version of a record, oldest first. */
  versions(recordName: string): readonly SchemaVersion[] {
    const versions = this.byRecord.get(recordName);
    if (!versions) throw new SchemaCatalogError(`no schema for record ${recordName}; known: ${this.recordNames().join(', ')}`);
    return versions;
  }

  latest(recordName: string): SchemaVersion {
    const versions = this.versions(recordName);
    return versions[versions.length - 1]!;
  }

  version(recordName: string, version: number): SchemaVersion {
    const found = this.versions(recordName).find((v) => v.version === version);
    if (!found) throw new SchemaCatalogError(`no version ${version} of record ${recordName}`);
    return found;
  }

  /** The schema a single-object fingerprint (8 bytes, or 16 hex digits) names, if known. */
  byFingerprint(fingerprint: Buffer | string): SchemaVersion | undefined {
    return this.byFingerprintHex.get(typeof fingerprint === 'string' ? fingerprint.toLowerCase() : fingerprint.toString('hex'));
  }

  /** A codec writing (and reading into) the newest version, or the pinned `version`. Cached. */
  codecFor<T>(recordName: string, options: RecordCodecOptions = {}): RecordCodec<T> {
    const key = `${recordName}@${options.version ?? 'latest'}`;
    let codec = this.codecs.get(key);
    if (!codec) {
      codec = new RecordCodec<unknown>(this, recordName, options);
      this.codecs.set(key, codec);
    }
    return codec as RecordCodec<T>;
  }
}
