// Public surface of @backbone/codec. Test fixtures and generators live in
// @backbone/codec/testing (libs/codec/src/testing/index.ts), not here.
export * from './alert.types.js';
export * from './delivery.types.js';
export { CODEC_ERROR_REASONS, CodecError, deadLetterReasonFor, isCodecError, type CodecErrorReason } from './codec.error.js';
export { crc64Avro } from './crc64-avro.fingerprint.js';
export { parsingCanonicalForm, SchemaFormError, type AvroSchemaJson } from './canonical-form.schema.js';
export { isUuid } from './logical-types.avro.js';
export {
  locateSchemasDir,
  SCHEMAS_DIR_ENV,
  SchemaCatalog,
  SchemaCatalogError,
  type LocateOptions,
  type SchemaSource,
  type SchemaVersion,
} from './schema.catalog.js';
export {
  isSingleObject,
  RecordCodec,
  SINGLE_OBJECT_HEADER_LENGTH,
  type RecordCodecOptions,
  type SingleObjectCodec,
} from './single-object.codec.js';
export {
  alertCodec,
  auditEventCodec,
  codecFor,
  deadLetterCodec,
  deliveryCodec,
  type CodecForOptions,
  type RecordName,
  type RecordTypes,
} from './record.codecs.js';
export { canonicalJson, type Canonical } from './canonical-json.js';
export {
  auditSignatureProblem,
  auditSigningBytes,
  canonicalDecisionsText,
  eventKeyId,
  eventKeyringOf,
  signAuditEvent,
  type EventKeyring,
  type EventSigningKey,
} from './audit-signature.js';
export {
  assertStorable,
  describeUnstorable,
  STORABLE_TIME_MAX_MS,
  STORABLE_TIME_MIN_MS,
  storableText,
  UNSTORABLE_REASONS,
  UnstorableRecordError,
  unstorableFields,
  unstorableString,
  unstorableTimestamp,
  type UnstorableField,
  type UnstorableReason,
} from './storable.rules.js';
