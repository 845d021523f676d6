// Ready-made codecs for the records of schemas/, bound to the default catalog on first use
// (importing this lib for its types or constants never touches the file system).
import type { Alert } from './alert.types.js';
import type { AuditEvent, DeadLetter, Delivery } from './delivery.types.js';
import { SchemaCatalog } from './schema.catalog.js';
import type { RecordCodec, RecordCodecOptions, SingleObjectCodec } from './single-object.codec.js';

/** The TypeScript type of each record in schemas/, by its Avro short name. */
export interface RecordTypes {
  Alert: Alert;
  Delivery: Delivery;
  AuditEvent: AuditEvent;
  DeadLetter: DeadLetter;
}
export type RecordName = keyof RecordTypes;

export interface CodecForOptions extends RecordCodecOptions {
  /** Default: the repository's schemas/ (or $BACKBONE_SCHEMAS_DIR). */
  readonly catalog?: SchemaCatalog;
}

/** A codec for one of our records; the schema version is the newest unless pinned. */
export function codecFor<K extends RecordName>(recordName: K, options: CodecForOptions = {}): SingleObjectCodec<RecordTypes[K]> {
  const { catalog, ...codecOptions } = options;
  return (catalog ?? SchemaCatalog.default()).codecFor<RecordTypes[K]>(recordName, codecOptions);
}

class LazyCodec<K extends RecordName> implements SingleObjectCodec<RecordTypes[K]> {
  private codec: RecordCodec<RecordTypes[K]> | undefined;

  constructor(readonly recordName: K) {}

  private get loaded(): RecordCodec<RecordTypes[K]> {
    return (this.codec ??= SchemaCatalog.default().codecFor<RecordTypes[K]>(this.recordName));
  }

  get schemaVersion(): number {
    return this.loaded.schemaVersion;
  }

  get fingerprint(): Buffer {
    return this.loaded.fingerprint;
  }

  encode(value: RecordTypes[K]): Buffer {
    return this.loaded.encode(value);
  }

  decode(buf: Buffer): RecordTypes[K] {
    return this.loaded.decode(buf);
  }
}

export const alertCodec: SingleObjectCodec<Alert> = new LazyCodec('Alert');
export const deliveryCodec: SingleObjectCodec<Delivery> = new LazyCodec('Delivery');
export const auditEventCodec: SingleObjectCodec<AuditEvent> = new LazyCodec('AuditEvent');
export const deadLetterCodec: SingleObjectCodec<DeadLetter> = new LazyCodec('DeadLetter');
