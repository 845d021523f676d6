import type { DeadLetterReason } from './delivery.types.js';

/**
 * Why a record could not be encoded or decoded. A closed list so that consumers can
 * switch on it exhaustively and dead-letter with the right reason.
 */
export const CODEC_ERROR_REASONS = [
  /** The bytes do not start with the single-object marker C3 01. */
  'BAD_MARKER',
  /** The bytes end before the header or the body does. */
  'TRUNCATED',
  /** The writer schema's fingerprint is not in the catalog. */
  'UNKNOWN_FINGERPRINT',
  /** The writer schema is known but cannot be read as the requested record (another record, or an incompatible version). */
  'INCOMPATIBLE_SCHEMA',
  /** The body does not decode under the writer schema (bad union or enum index, invalid logical value, …). */
  'INVALID_BODY',
  /** The body decoded but bytes are left over. */
  'TRAILING_BYTES',
  /** The value to encode does not match the schema. */
  'INVALID_VALUE',
] as const;
export type CodecErrorReason = (typeof CODEC_ERROR_REASONS)[number];

export class CodecError extends Error {
  override readonly name = 'CodecError';

  constructor(
    readonly reason: CodecErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${reason}: ${message}`, options);
  }
}

export function isCodecError(err: unknown): err is CodecError {
  return err instanceof CodecError;
}

const DEAD_LETTER_REASON_BY_CODEC_REASON: Readonly<Record<CodecErrorReason, DeadLetterReason>> = {
  BAD_MARKER: 'UNDECODABLE',
  TRUNCATED: 'UNDECODABLE',
  INVALID_BODY: 'UNDECODABLE',
  TRAILING_BYTES: 'UNDECODABLE',
  UNKNOWN_FINGERPRINT: 'UNKNOWN_SCHEMA',
  INCOMPATIBLE_SCHEMA: 'UNKNOWN_SCHEMA',
  INVALID_VALUE: 'INVALID_RECORD',
};

/** The dead-letter reason to record for a failure; anything not from the codec is UNKNOWN. */
export function deadLetterReasonFor(err: unknown): DeadLetterReason {
  return isCodecError(err) ? DEAD_LETTER_REASON_BY_CODEC_REASON[err.reason] : 'UNKNOWN';
}
