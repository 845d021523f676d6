import { deadLetterReasonFor, isCodecError, type DeadLetterReason } from '@backbone/codec';

/**
 * What a consumer does when processing one record fails:
 * - transient: the world is broken (PostgreSQL or the broker down, a connection dropped, a
 *   deadlock). Retry the same record with back-off, keep order, lose nothing.
 * - permanent: this record can never be processed (it does not decode, or PostgreSQL refuses its
 *   data). After a bounded number of attempts, park it with a named reason and go on.
 */
export type FailureKind = 'transient' | 'permanent';

export interface ClassifiedFailure {
  kind: FailureKind;
  /** Short label for metrics and logs, e.g. `sqlstate_22P05`, `codec_BAD_MARKER`, `connection`. */
  label: string;
  /** The dead-letter reason when parked (permanent failures only; transient ones never park). */
  parkReason: DeadLetterReason;
  /** One line for the dead letter's detail and the logs. */
  detail: string;
}

/** Thrown by a consumer that knows a record can never be processed (a mismatch, a forged signature, …). */
export class PermanentRecordError extends Error {
  override readonly name = 'PermanentRecordError';
  constructor(
    readonly reason: DeadLetterReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * SQLSTATE classes (the first two characters) that say "this data can never be stored", whatever
 * the state of the server: 22 data exception (invalid byte sequence / NUL 22021, untranslatable
 * character 22P05, datetime out of range 22008, value too long 22001, numeric out of range 22003,
 * invalid text representation 22P02, …) and 23 integrity constraint violation (check, not-null,
 * foreign key). Every other class is about the server or the session (08 connection, 40
 * serialization/deadlock, 53 resources, 57 admin shutdown, 58 system, XX internal) or about our
 * own SQL (42): retrying is right there, and a stall stays visible through the readiness check.
 */
const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23']);

function sqlState(err: unknown): string | undefined {
  // pg's DatabaseError and TypeORM's QueryFailedError (which copies the driver error's fields) both carry `code`.
  for (let e: unknown = err, depth = 0; depth < 4 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { driverError?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Control characters (a NUL from the record itself) would make the detail unstorable too.
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').slice(0, 500);
}

/** Classifies by type and SQLSTATE class, never by message text. Anything unrecognised is transient: retrying loses nothing. */
export function classifyFailure(err: unknown): ClassifiedFailure {
  if (err instanceof PermanentRecordError) {
    return { kind: 'permanent', label: `record_${err.reason}`, parkReason: err.reason, detail: oneLine(err) };
  }
  if (isCodecError(err)) {
    return { kind: 'permanent', label: `codec_${err.reason}`, parkReason: deadLetterReasonFor(err), detail: oneLine(err) };
  }
  const state = sqlState(err);
  if (state !== undefined) {
    const permanent = PERMANENT_SQLSTATE_CLASSES.has(state.slice(0, 2));
    return {
      kind: permanent ? 'permanent' : 'transient',
      label: `sqlstate_${state}`,
      parkReason: 'UNSTORABLE',
      detail: `SQLSTATE ${state}: ${oneLine(err)}`,
    };
  }
  const name = err instanceof Error ? err.name : '';
  const label = name.startsWith('KafkaJS')
    ? 'kafka'
    : typeof (err as { code?: unknown } | null)?.code === 'string'
      ? 'connection'
      : 'unknown';
  return { kind: 'transient', label, parkReason: 'UNKNOWN', detail: oneLine(err) };
}
