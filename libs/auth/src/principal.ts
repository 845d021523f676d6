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

/** The request field the guard sets. */
export interface AuthenticatedRequest {
  principal?: Principal;
}

/** The principal of a request the guard admitted; a route reaching here without one is a wiring bug. */
export function principalOf<D>(req: AuthenticatedRequest): Principal<D> {
  if (!req.principal) throw new Error('no principal on a guarded request: the roles guard did not run');
  return req.principal as Principal<D>;
}
