import type { Role } from './roles.js';

/** Who is calling, as the service's credential verifier established it. */
export interface Principal<D = unknown> {
  /** Stable name for logs and audit events: an agency code, a desk name, a user name. */
  readonly subject: string;
  readonly roles: readonly Role[];
  /** The agency the principal acts for, when it acts for one. */
  readonly agency: string | null;
  /** The service's own record of the caller (an office, a desk, a reviewer); typed where it is read. */
  readonly details: D;
}

/** A refusal the verifier wants answered as it says (status, named reason, problem type, extra fields). */
export interface VerifierRefusal {
  readonly ok: false;
  readonly status?: 401 | 403;
  readonly reason: string;
  readonly type?: string;
  readonly title?: string;
  readonly detail?: string;
  readonly extra?: Record<string, unknown>;
}

export type Verification<D = unknown> = { readonly ok: true; readonly principal: Principal<D> } | VerifierRefusal;

/**
 * The port every service implements over its own credential store: token → principal with
 * roles. `admitted` is what the route admits, for stores whose refusal depends on it.
 */
export interface CredentialVerifier {
  verify(token: string, admitted: readonly string[]): Promise<Verification>;
}

/** Injection token of the service's CredentialVerifier; the start-up function refuses to start without one. */
export const CREDENTIAL_VERIFIER = Symbol('CREDENTIAL_VERIFIER');

/**
 * What the guard refused, recorded on the request for the refusal audit. `identified`: the caller
 * is known to the service (a known credential without the role, a revoked one), so the refusal is
 * audited one by one before it is answered; otherwise (no, malformed or unknown credential) it is
 * anonymous, rate-limited and audited in aggregate.
 */
export interface GuardRefusal {
  readonly status: 401 | 403;
  readonly reason: string;
  readonly identified: boolean;
  /** The caller's subject and agency, when the verifier established them. */
  readonly subject: string | null;
  readonly agency: string | null;
}

/** Reasons a verifier gives for a caller it knows although it refuses it (the token is genuine). */
const IDENTIFIED_401_REASONS: ReadonlySet<string> = new Set(['revoked-credential']);

/**
 * Whether a refusal names a caller the service knows: one the verifier established (a principal
 * without the route's role), or a genuine but revoked token. A 403 for an unknown token (the
 * subscriber's admin-only routes answer those 403) is anonymous.
 */
export function isIdentifiedRefusal(hasPrincipal: boolean, reason: string): boolean {
  return hasPrincipal || IDENTIFIED_401_REASONS.has(reason);
}

/** The request fields the guard sets. */
export interface AuthenticatedRequest {
  principal?: Principal;
  /** Set when the guard refused the request. */
  refusal?: GuardRefusal;
}

/** The principal of a request the guard admitted; a route reaching here without one is a wiring bug. */
export function principalOf<D>(req: AuthenticatedRequest): Principal<D> {
  if (!req.principal) throw new Error('no principal on a guarded request: the roles guard did not run');
  return req.principal as Principal<D>;
}
