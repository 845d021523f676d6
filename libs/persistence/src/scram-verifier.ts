import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

// A role's password is set from a SCRAM-SHA-256 verifier computed here, never from the password
// itself: `ALTER ROLE ... PASSWORD '<literal>'` would put the password in the statement text, which
// PostgreSQL may write to its log (log_statement, errors) or keep in pg_stat_statements. A
// verifier in that text lets nobody log in (RFC 5802, RFC 7677); PostgreSQL stores it as given.

export const SCRAM_ITERATIONS = 4096;

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, the form pg_authid.rolpassword holds. */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  // SASLprep is the identity for the ASCII passwords we generate; refuse anything else rather than guess.
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error('SCRAM verifier: the password must be printable ASCII');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** The statement that sets a role's password without the password in it. `role` must already be a checked identifier. */
export function setRolePasswordSql(role: string, password: string): string {
  return `ALTER ROLE ${role} PASSWORD '${scramSha256Verifier(password)}'`;
}
