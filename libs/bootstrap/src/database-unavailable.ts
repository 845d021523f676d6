/**
 * Whether an error says "the database cannot be reached or has no room right now", as opposed to
 * "this request is wrong" or "our code is wrong". Such a request can be retried: the HTTP edge
 * answers 503 with Retry-After, never 500 (found by the bench: under load the publisher's pool
 * could not hand out a connection in time, and offices were told "internal error" for alerts they
 * could simply send again with the same Idempotency-Key).
 *
 * Recognised, along the cause chain (TypeORM keeps the driver's error as `driverError`):
 * - SQLSTATE class 08 (connection exception), 53 (insufficient resources, e.g. 53300 too many
 *   connections) and 57P01-57P03 (server shutting down, crashed, not accepting connections yet);
 * - socket errors of the connection (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, EHOSTUNREACH);
 * - node-postgres' own connection failures, which carry no code: pg-pool's acquire timeout and a
 *   connection ended under a query. Their messages are the only signal these errors give.
 */
const UNAVAILABLE_STATES = /^(08|53)[0-9A-Z]{3}$|^57P0[123]$/;
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);
const PG_CONNECTION_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
];

export function isDatabaseUnavailable(err: unknown): boolean {
  // Shapes, not `instanceof Error`: socket errors come from Node's own realm, which is not the
  // caller's in every runtime (Jest's module sandbox, for one).
  for (let e: unknown = err, depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const { name, code, message } = e as { name?: unknown; code?: unknown; message?: unknown };
    // Kafka's client errors are not the database's (they have their own 503 paths).
    if (typeof name === 'string' && name.startsWith('KafkaJS')) return false;
    if (typeof code === 'string' && (UNAVAILABLE_STATES.test(code) || SOCKET_CODES.has(code))) return true;
    if (typeof message === 'string' && PG_CONNECTION_MESSAGES.some((m) => message.startsWith(m))) return true;
    e = (e as { driverError?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}
