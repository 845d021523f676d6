import { Inject, Injectable } from '@nestjs/common';
import { tokenMatches, type CredentialVerifier, type Verification } from '@backbone/auth';
import { DESK_STORE, SUBSCRIBER_OPTIONS } from '../subscriber.tokens.js';
import type { Desk, DeskStore } from '@backbone/inbox-store';

export interface VerifierOptions {
  agency: string;
  /** SHA-256 of the agency-admin token; null = desk management over HTTP is off. */
  adminTokenHash: string | null;
}

/** The agency admin, as a principal's details. */
export interface AgencyAdmin {
  readonly agency: string;
}

/**
 * The subscriber's credential port. A desk's bearer token is looked up in this agency's own
 * token store (role `desk`): a token of another agency's desk is simply unknown here (401). The
 * agency-admin token (its SHA-256 configured) is role `operator`, which manages desks.
 */
@Injectable()
export class SubscriberCredentialVerifier implements CredentialVerifier {
  constructor(
    @Inject(DESK_STORE) private readonly desks: DeskStore,
    @Inject(SUBSCRIBER_OPTIONS) private readonly options: VerifierOptions,
  ) {}

  async verify(token: string, admitted: readonly string[]): Promise<Verification<Desk | AgencyAdmin>> {
    const { agency, adminTokenHash } = this.options;
    const adminOnly = admitted.length > 0 && admitted.every((r) => r === 'operator');
    if (adminOnly && !adminTokenHash) {
      return {
        ok: false,
        status: 403,
        type: 'desk-admin-disabled',
        title: 'Desk management over HTTP is not enabled',
        reason: 'desk-admin-disabled',
        detail: 'Set ADMIN_TOKEN_HASH, or manage desks with `backbone desks`.',
      };
    }
    if (adminTokenHash && tokenMatches(token, adminTokenHash)) {
      return { ok: true, principal: { subject: `${agency}:admin`, roles: ['operator'], agency, details: { agency } } };
    }
    const desk = await this.desks.authenticate(token);
    if (desk) return { ok: true, principal: { subject: `${agency}:${desk.name}`, roles: ['desk'], agency, details: desk } };
    if (adminOnly) {
      return {
        ok: false,
        status: 403,
        reason: 'not-agency-admin',
        title: 'Not the agency-admin credential',
        detail: `Only the agency admin of ${agency} manages its desks.`,
      };
    }
    return {
      ok: false,
      status: 401,
      reason: 'unknown-credential',
      detail: `the token is not a desk token of ${agency}`,
      extra: { realm: agency },
    };
  }
}
