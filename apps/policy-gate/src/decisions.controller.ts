import { Controller, Get, Param, Query } from '@nestjs/common';
import { Roles } from '@backbone/auth';
import { alertCodec, isUuid } from '@backbone/codec';
import { problem } from '@backbone/bootstrap';
import { explainDecision, type DecisionExplanation } from '@backbone/gate-store';
import { PolicyGateRuntime } from './policy-gate.runtime.js';

/**
 * What the gate decided for a past alert, and under which rule: the data behind `backbone policy explain`.
 * It names the sender, the headline and every recipient, so only reviewers may read it.
 */
@Controller('decisions')
@Roles('hold-reviewer')
export class DecisionsController {
  constructor(private readonly runner: PolicyGateRuntime) {}

  @Get(':alertId')
  async explain(@Param('alertId') alertId: string, @Query('agency') agency?: string): Promise<DecisionExplanation> {
    if (!isUuid(alertId)) throw problem(400, 'invalid-alert-id', 'Invalid alert id', { detail: `${alertId} is not a UUID` });
    const repo = this.runner.running.repository;
    const decisions = await repo.decisionsFor(alertId);
    if (decisions.length === 0)
      throw problem(404, 'unknown-alert', 'Unknown alert', { detail: `the gate has decided nothing for alert ${alertId}` });
    return explainDecision(alertId, decisions, await repo.recipientsOf(alertId), agency ?? null, (b) => alertCodec.decode(b).headline);
  }
}
