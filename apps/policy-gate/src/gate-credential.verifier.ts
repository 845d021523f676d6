import { Inject, Injectable } from '@nestjs/common';
import type { CredentialVerifier, Verification } from '@backbone/auth';
import type { Reviewer } from '@backbone/gate-store';
import { verifyOfficeToken, type IntrospectedOffice, type OfficeIntrospectionClient } from '@backbone/office-auth';
import { PolicyGateRuntime } from './policy-gate.runtime.js';

/** The client asking the publisher about office tokens; null when OFFICE_INTROSPECTION_* is not set. */
export const GATE_OFFICE_INTROSPECTION = Symbol('GATE_OFFICE_INTROSPECTION');

/** A liaison office as the gate knows it: from the publisher's introspection route. */
export type GateOffice = IntrospectedOffice;

/**
 * The gate's credential port: a reviewer bearer token (`backbone policy reviewers issue`) → role
 * `hold-reviewer`; a liaison office token (issued by the publisher, `backbone credentials issue`)
 * → role `office`, for the recipient preview, verified by asking the publisher (ADR 0007). Which
 * is tried follows what the route admits, so a reviewer route never looks at office credentials
 * and the reverse.
 */
@Injectable()
export class GateCredentialVerifier implements CredentialVerifier {
  constructor(
    private readonly runtime: PolicyGateRuntime,
    @Inject(GATE_OFFICE_INTROSPECTION) private readonly offices: OfficeIntrospectionClient | null,
  ) {}

  async verify(token: string, admitted: readonly string[]): Promise<Verification<Reviewer | GateOffice>> {
    if (admitted.includes('office')) return verifyOfficeToken(this.offices, token);
    if (admitted.includes('hold-reviewer')) {
      const reviewer = await this.runtime.running.repository.reviewerByToken(token);
      if (reviewer !== null)
        return { ok: true, principal: { subject: reviewer.name, roles: ['hold-reviewer'], agency: null, details: reviewer } };
    }
    return { ok: false, status: 401, reason: 'unknown-credential', title: 'Unknown or revoked reviewer token' };
  }
}
