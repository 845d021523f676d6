import { Inject, Injectable } from '@nestjs/common';
import type { CredentialVerifier, Verification } from '@backbone/auth';
import { verifyOfficeToken, type OfficeIntrospectionClient } from '@backbone/office-auth';
import { ComplianceCredentialVerifier } from './compliance-users.store.js';

/** The client asking the publisher about office tokens; null when OFFICE_INTROSPECTION_* is not set. */
export const AUDIT_OFFICE_INTROSPECTION = Symbol('AUDIT_OFFICE_INTROSPECTION');

/**
 * The audit logger's credential port: on office routes a liaison office token, verified by the
 * publisher's introspection route (ADR 0007); everywhere else a compliance user's token.
 */
@Injectable()
export class AuditCredentialVerifier implements CredentialVerifier {
  constructor(
    private readonly compliance: ComplianceCredentialVerifier,
    @Inject(AUDIT_OFFICE_INTROSPECTION) private readonly offices: OfficeIntrospectionClient | null,
  ) {}

  verify(token: string, admitted: readonly string[]): Promise<Verification> {
    return admitted.includes('office') ? verifyOfficeToken(this.offices, token) : this.compliance.verify(token);
  }
}
