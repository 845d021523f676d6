import type { Type } from 'avsc';
import type { AvroSchemaJson } from './canonical-form.schema.js';

// What a record codec needs from the schema catalog, apart from the catalog itself: the codec
// depends on this, the catalog implements it, so the two files do not import each other.

/** One version of one record schema, parsed and fingerprinted. */
export interface SchemaVersion {
  readonly subject: string;
  readonly version: number;
  /** Full name of the top-level record, e.g. `org.backbone.alert.Alert`. */
  readonly fullName: string;
  /** Its short name, e.g. `Alert`: what `codecFor` takes. */
  readonly recordName: string;
  readonly origin: string;
  readonly schema: AvroSchemaJson;
  readonly canonicalForm: string;
  /** CRC-64-AVRO of the canonical form, 8 bytes little-endian, as in single-object encoding. */
  readonly fingerprint: Buffer;
  /** The same as 16 hex digits, for maps and logs. */
  readonly fingerprintHex: string;
  readonly type: Type;
}

/** Schema versions by record name and by fingerprint: the catalog as a codec reads it. */
export interface SchemaLookup {
  versions(recordName: string): readonly SchemaVersion[];
  latest(recordName: string): SchemaVersion;
  version(recordName: string, version: number): SchemaVersion;
  byFingerprint(fingerprint: Buffer | string): SchemaVersion | undefined;
}
