import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { join } from 'node:path';
import { bearerFrom } from '@backbone/auth';
import { problem } from '@backbone/bootstrap';
import type { DecisionOutcome, FieldGroup } from '@backbone/codec';
import { loadRegistry, type Registry } from '@backbone/policy';
import type { GateSettings } from '../policy-gate.config.js';
import { GATE_SETTINGS_TOKEN, PolicyGateRunner } from '../policy-gate.runner.js';
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
 * nothing written anywhere. Office tokens only (the publisher's credentials, read-only).
 * ROLES: office — to be declared through the shared roles guard at merge (see docs/policy-gate.md).
 */
@Controller('preview')
export class PreviewController {
  private registry: Registry | undefined;

  constructor(
    private readonly runner: PolicyGateRunner,
    @Inject(GATE_SETTINGS_TOKEN) private readonly settings: GateSettings,
  ) {}

  @Post()
  @HttpCode(200)
  async preview(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Body() body: unknown): Promise<RecipientPreview> {
    const refuse = (reason: string, detail: string): never => {
      void reply.header('WWW-Authenticate', 'Bearer realm="backbone"');
      throw problem(401, 'unauthenticated', 'A liaison office token is required', { detail, reason });
    };
    const token = bearerFrom(req.headers.authorization);
    if (token === null) return refuse('missing-credential', 'Send Authorization: Bearer <office token>.');
    const office = await this.runner.running.repository.officeByToken(token);
    if (office === null) return refuse('unknown-credential', 'The credential is not a valid liaison office token.');
    this.registry ??= loadRegistry(join(this.settings.POLICIES_DIR, 'registry.yaml'));
    const agency = this.registry.agencies.find((a) => a.code === office.agency);
    if (!agency) return refuse('agency-not-in-registry', 'The credential belongs to an agency that is no longer a member.');

    const now = new Date();
    const read = readPreviewAlert(body, agency.code, agency.region, now);
    if (!read.ok) throw problem(400, 'validation-failed', 'The draft cannot be previewed', { errors: read.errors, reason: 'validation-failed' });
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
