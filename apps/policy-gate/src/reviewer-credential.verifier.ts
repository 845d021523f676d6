import { Injectable } from '@nestjs/common';
import type { CredentialVerifier, Verification } from '@backbone/auth';
import type { Reviewer } from './gate.repository.js';
import { PolicyGateRuntime } from './policy-gate.runtime.js';

/** The gate's credential port: a reviewer bearer token (`backbone policy reviewers issue`) → role `hold-reviewer`. */
@Injectable()
export class ReviewerCredentialVerifier implements CredentialVerifier {
  constructor(private readonly runtime: PolicyGateRuntime) {}

  async verify(token: string): Promise<Verification<Reviewer>> {
    const reviewer = await this.runtime.running.repository.reviewerByToken(token);
    if (reviewer === null) return { ok: false, status: 401, reason: 'unknown-credential', title: 'Unknown or revoked reviewer token' };
    return { ok: true, principal: { subject: reviewer.name, roles: ['hold-reviewer'], agency: null, details: reviewer } };
  }
}
