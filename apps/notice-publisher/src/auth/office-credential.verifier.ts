import { createParamDecorator, Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { principalOf, tokenMatches, type AuthenticatedRequest, type CredentialVerifier, type Verification } from '@backbone/auth';
import type { IntrospectionAnswer } from '@backbone/office-auth';
import { parseIntrospectionClients } from '@backbone/office-auth';
import { CredentialStore } from '@backbone/office-store';
import type { PublisherConfig } from '../config/publisher.config.js';
import { AGENCY_DIRECTORY, PUBLISHER_CONFIG } from '../publisher.tokens.js';
import type { AgencyDirectory, AgencyEntry } from '../registry/agency-directory.js';

/** The authenticated liaison office; the only source of an alert's sender. */
export interface Office {
  readonly agency: AgencyEntry;
}

/** A backbone service asking about office tokens with its own credential (INTROSPECTION_CLIENTS). */
export interface IntrospectionClient {
  readonly service: string;
}

/**
 * The publisher's credential port: an office bearer credential → the office (role `office`); on
 * the introspection route only, a service credential (INTROSPECTION_CLIENTS) → role `service`.
 */
@Injectable()
export class OfficeCredentialVerifier implements CredentialVerifier {
  private readonly clients: ReadonlyMap<string, string>;

  constructor(
    private readonly credentials: CredentialStore,
    @Inject(AGENCY_DIRECTORY) private readonly agencies: AgencyDirectory,
    @Inject(PUBLISHER_CONFIG) config: PublisherConfig,
  ) {
    this.clients = parseIntrospectionClients(config.settings.INTROSPECTION_CLIENTS);
  }

  async verify(token: string, admitted: readonly string[] = []): Promise<Verification<Office | IntrospectionClient>> {
    if (admitted.includes('service')) {
      for (const [service, hash] of this.clients) {
        if (tokenMatches(token, hash))
          return { ok: true, principal: { subject: service, roles: ['service'], agency: null, details: { service } } };
      }
    }
    const answer = await this.introspect(token);
    if (!answer.active) {
      const detail =
        answer.reason === 'agency-not-in-registry'
          ? 'The credential belongs to an agency that is no longer a member.'
          : 'The credential is not valid.';
      return { ok: false, status: 401, reason: answer.reason, detail };
    }
    const agency = this.agencies.get(answer.agency)!;
    return { ok: true, principal: { subject: agency.code, roles: ['office'], agency: agency.code, details: { agency } } };
  }

  /** Whether an office token is valid now, and whose it is: the answer of POST /auth/introspect. */
  async introspect(token: string): Promise<IntrospectionAnswer> {
    const check = await this.credentials.verify(token);
    if (!check.ok) return { active: false, reason: check.reason };
    // A credential of an agency removed from the registry no longer authorises anything.
    if (!this.agencies.get(check.agency)) return { active: false, reason: 'agency-not-in-registry' };
    return { active: true, agency: check.agency, tokenId: check.tokenId };
  }
}

export const CurrentOffice = createParamDecorator((_: unknown, context: ExecutionContext): Office => {
  return principalOf<Office>(context.switchToHttp().getRequest<AuthenticatedRequest>()).details;
});
