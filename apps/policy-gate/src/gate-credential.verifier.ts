import { Injectable } from '@nestjs/common';
import type { CredentialVerifier, Verification } from '@backbone/auth';
import type { Reviewer } from '@backbone/gate-store';
import { PolicyGateRuntime } from './policy-gate.runtime.js';

/** A liaison office as the gate knows it: from the publisher's credential table, read only. */
export interface GateOffice {
  readonly agency: string;
  readonly tokenId: string;
}

/**
 * The gate's credential port: a reviewer bearer token (`backbone policy reviewers issue`) → role
 * `hold-reviewer`; a liaison office token (issued by the publisher, `backbone credentials issue`)
 * → role `office`, for the recipient preview. Which store is asked follows what the route admits,
 * so a reviewer route never looks at office credentials and the reverse.
 */
@Injectable()
export class GateCredentialVerifier implements CredentialVerifier {
  constructor(private readonly runtime: PolicyGateRuntime) {}

  async verify(token: string, admitted: readonly string[]): Promise<Verification<Reviewer | GateOffice>> {
    const repo = this.runtime.running.repository;
    if (admitted.includes('hold-reviewer')) {
      const reviewer = await repo.reviewerByToken(token);
      if (reviewer !== null)
        return { ok: true, principal: { subject: reviewer.name, roles: ['hold-reviewer'], agency: null, details: reviewer } };
    }
    if (admitted.includes('office')) {
      const office = await repo.officeByToken(token);
      if (office !== null)
        return { ok: true, principal: { subject: office.agency, roles: ['office'], agency: office.agency, details: office } };
    }
    return {
      ok: false,
      status: 401,
      reason: 'unknown-credential',
      title: admitted.includes('office') ? 'A liaison office token is required' : 'Unknown or revoked reviewer token',
    };
  }
}
