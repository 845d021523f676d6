import { createParamDecorator, Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { principalOf, type AuthenticatedRequest, type CredentialVerifier, type Verification } from '@backbone/auth';
import { CredentialStore } from '@backbone/office-store';
import { AGENCY_DIRECTORY } from '../publisher.tokens.js';
import type { AgencyDirectory, AgencyEntry } from '../registry/agency-directory.js';

/** The authenticated liaison office; the only source of an alert's sender. */
export interface Office {
  readonly agency: AgencyEntry;
}

/** The publisher's credential port: an office bearer credential → the office (role `office`). */
@Injectable()
export class OfficeCredentialVerifier implements CredentialVerifier {
  constructor(
    private readonly credentials: CredentialStore,
    @Inject(AGENCY_DIRECTORY) private readonly agencies: AgencyDirectory,
  ) {}

  async verify(token: string): Promise<Verification<Office>> {
    const check = await this.credentials.verify(token);
    if (!check.ok) return { ok: false, status: 401, reason: check.reason, detail: 'The credential is not valid.' };
    const agency = this.agencies.get(check.agency);
    // A credential of an agency removed from the registry no longer authorises anything.
    if (!agency) {
      return {
        ok: false,
        status: 401,
        reason: 'agency-not-in-registry',
        detail: 'The credential belongs to an agency that is no longer a member.',
      };
    }
    return { ok: true, principal: { subject: agency.code, roles: ['office'], agency: agency.code, details: { agency } } };
  }
}

export const CurrentOffice = createParamDecorator((_: unknown, context: ExecutionContext): Office => {
  return principalOf<Office>(context.switchToHttp().getRequest<AuthenticatedRequest>()).details;
});
