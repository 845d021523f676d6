import { join } from 'node:path';
import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { principalOf, Roles, type AuthenticatedRequest } from '@backbone/auth';
import { problem } from '@backbone/bootstrap';
import type { DecisionOutcome, FieldGroup } from '@backbone/codec';
import { loadRegistry, type Registry } from '@backbone/policy';
import type { GateSettings } from '../policy-gate.config.js';
import { GATE_SETTINGS_TOKEN, PolicyGateRuntime } from '../policy-gate.runtime.js';
import type { GateOffice } from '../gate-credential.verifier.js';
import { readPreviewAlert } from './preview-alert.reader.js';

/** One agency's outcome in a preview. */
export interface PreviewRecipient {
  agency: string;
  outcome: DecisionOutcome;
  ruleId: string;
  redactedGroups: FieldGroup[];
  executionFlags: string[];
  noReshare: boolean;
}

/** What POST /preview answers: who would receive the draft under today's policy, and why not the others. */
export interface RecipientPreview {
  sender: string;
  policyVersion: string;
  evaluatedAt: string;
  /** How many agencies would receive it (with or without obligations). */
  count: number;
  recipients: PreviewRecipient[];
  /** Held for review: delivered only once a reviewer releases them. */
  held: PreviewRecipient[];
  denied: { agency: string; ruleId: string }[];
}

/**
 * Dry-run decision for a liaison office's draft: the policy the gate enforces, evaluated now,
 * nothing written anywhere. Office tokens only (verified by the publisher's introspection route,
 * through GateCredentialVerifier); desks, compliance staff and reviewers get 401.
 */
@Controller('preview')
@Roles('office')
export class PreviewController {
  private registry: Registry | undefined;

  constructor(
    private readonly runner: PolicyGateRuntime,
    @Inject(GATE_SETTINGS_TOKEN) private readonly settings: GateSettings,
  ) {}

  @Post()
  @HttpCode(200)
  async preview(@Req() req: AuthenticatedRequest, @Body() body: unknown): Promise<RecipientPreview> {
    const office = principalOf<GateOffice>(req).details;
    this.registry ??= loadRegistry(join(this.settings.POLICIES_DIR, 'registry.yaml'));
    const agency = this.registry.agencies.find((a) => a.code === office.agency);
    // A credential of an agency removed from the registry no longer authorises anything.
    if (!agency)
      throw problem(403, 'forbidden', 'Not a member agency', {
        detail: `${office.agency} is no longer in the registry`,
        reason: 'agency-not-in-registry',
      });

    const now = new Date();
    const read = readPreviewAlert(body, agency.code, agency.region, now);
    if (!read.ok)
      throw problem(400, 'validation-failed', 'The draft cannot be previewed', { errors: read.errors, reason: 'validation-failed' });
    const decision = this.runner.running.policy.decide(read.alert, now);
    const view = (o: (typeof decision.outcomes)[number]): PreviewRecipient => ({
      agency: o.agency,
      outcome: o.outcome,
      ruleId: o.ruleId,
      redactedGroups: [...o.redactedGroups],
      executionFlags: [...o.executionFlags],
      noReshare: o.noReshare,
    });
    const recipients = decision.outcomes.filter((o) => o.outcome === 'ALLOW' || o.outcome === 'ALLOW_WITH_OBLIGATIONS').map(view);
    return {
      sender: agency.code,
      policyVersion: decision.policyVersion,
      evaluatedAt: now.toISOString(),
      count: recipients.length,
      recipients,
      held: decision.outcomes.filter((o) => o.outcome === 'HOLD').map(view),
      denied: decision.outcomes.filter((o) => o.outcome === 'DENY').map((o) => ({ agency: o.agency, ruleId: o.ruleId })),
    };
  }
}
