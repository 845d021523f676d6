import type { Alert } from '@backbone/codec';
import type { RecipientOutcome } from './decision.types.js';
import { ALERT_CHECKS, alertContext, capitalAssured, decide, redactionMask, type AlertContext } from './policy.engine.js';
import { GROUP_BIT, type CompiledPolicy } from './policy.compiler.js';
import { RULE_IDS, type RuleId } from './rule-ids.constants.js';

export type FiredEffect = 'deny' | 'hold' | 'allow' | 'obligation';

export interface FiredRule {
  readonly ruleId: RuleId;
  readonly effect: FiredEffect;
  /** The id of the rule in the policy document, when one is involved. */
  readonly policyRule?: string;
  readonly detail: string;
}

export interface Explanation {
  readonly alertId: string;
  readonly alertVersion: number;
  readonly agency: string;
  readonly policyVersion: string;
  readonly registryVersion: string;
  /** Exactly what decide() returns for this agency. */
  readonly outcome: RecipientOutcome;
  /** Every rule that fired for this agency, in precedence order; the first deny (if any) decided. */
  readonly fired: readonly FiredRule[];
  /** The same, as text for `backbone policy explain`. */
  readonly text: string;
}

/**
 * Why `agency` gets what it gets for `alert`: the deciding rule and every other rule that
 * fired (later denials the first one masked, obligations). Not for the hot path.
 */
export function explain(alert: Alert, agency: string, compiled: CompiledPolicy, now: Date = new Date()): Explanation {
  const i = compiled.indexByCode.get(agency);
  if (i === undefined)
    throw new Error(`explain: agency ${agency} is not in registry ${compiled.registryVersion} (${compiled.registry.source})`);
  const outcome = decide(alert, compiled, now).outcomes[i]!;
  const nowMs = now.getTime();
  const ctx = alertContext(alert, compiled, nowMs);
  const fired: FiredRule[] = [];

  for (const check of ALERT_CHECKS) {
    if (check.denies(alert, compiled, nowMs)) fired.push({ ruleId: check.id, effect: 'deny', detail: check.why(alert, compiled, nowMs) });
  }
  const alertDenied = fired.length > 0;
  // Recipient checks read alert facts an alert-wide denial may have found missing (an
  // unknown exercise), so they only run when the alert as a whole passed.
  if (!alertDenied) {
    for (const check of ctx.checks) {
      if (check.denies(ctx, i)) fired.push({ ruleId: check.id, effect: 'deny', detail: check.why(ctx, i) });
    }
  }
  if (outcome.outcome !== 'DENY') {
    if (ctx.hold) {
      fired.push({ ruleId: RULE_IDS.reviewHold, effect: 'hold', policyRule: ctx.hold.rule.id, detail: ctx.hold.rule.description.trim() });
    }
    fired.push({ ruleId: ctx.permitId, effect: 'allow', detail: addressingDetail(alert) });
    fired.push(...obligations(ctx, i));
  }

  const header = `Alert ${alert.alertId} v${alert.version} (${alert.status} ${alert.noticeType}, TLP:${alert.tlp}, ${alert.handlingCode}, from ${alert.sender}) → ${agency}`;
  const lines = [
    header,
    `Policy ${compiled.policyVersion}, registry ${compiled.registryVersion}, decided at ${now.toISOString()}`,
    `Outcome: ${outcome.outcome}, decided by ${outcome.ruleId}`,
    'Rules that fired, in precedence order:',
    ...fired.map(
      (rule) => `  - [${rule.effect}] ${rule.ruleId}${rule.policyRule ? ` (policy rule ${rule.policyRule})` : ''}: ${rule.detail}`,
    ),
  ];
  if (outcome.outcome !== 'DENY') {
    lines.push(
      `Redacted: ${outcome.redactedGroups.join(', ') || 'nothing'}; flags: ${outcome.executionFlags.join(', ') || 'none'}; ` +
        `re-sharing: ${outcome.noReshare ? 'forbidden' : 'allowed'}`,
    );
  }
  return {
    alertId: alert.alertId,
    alertVersion: alert.version,
    agency,
    policyVersion: compiled.policyVersion,
    registryVersion: compiled.registryVersion,
    outcome,
    fired,
    text: lines.join('\n'),
  };
}

function addressingDetail(alert: Alert): string {
  switch (alert.addressing.mode) {
    case 'ALL':
      return 'addressed to all agencies';
    case 'REGIONS':
      return `addressed to regions ${alert.addressing.regions.join(', ')}`;
    case 'EXPLICIT':
      return 'named in the explicit addressing list';
  }
}

function obligations(ctx: AlertContext, i: number): FiredRule[] {
  const { c, alert } = ctx;
  const result: FiredRule[] = [];
  const mask = redactionMask(ctx, i);
  for (const rule of c.redactionRules) {
    const applies = (rule.originators === 'any' || ctx.originatorInArea) && !c.isExempt(rule, i) && (mask & GROUP_BIT[rule.group]) !== 0;
    if (applies) result.push({ ruleId: RULE_IDS.redaction, effect: 'obligation', policyRule: rule.id, detail: `${rule.group} removed` });
  }
  if (ctx.victimApplies && c.victimRedact[i] !== 0 && (mask & GROUP_BIT.VICTIM_DETAILS) !== 0) {
    result.push({
      ruleId: RULE_IDS.victimProtection,
      effect: 'obligation',
      policyRule: c.victimRule?.id,
      detail: `VICTIM_DETAILS (${alert.subject?.victim?.category}) removed: the agency is not designated for victim support`,
    });
  }
  if (ctx.tlpNoReshare) {
    result.push({
      ruleId: RULE_IDS.tlpNoReshare,
      effect: 'obligation',
      detail: `TLP:${alert.tlp} - no re-sharing outside the recipient agency`,
    });
  }
  if (ctx.handlingNoReshare) {
    result.push({
      ruleId: RULE_IDS.handlingNoReshare,
      effect: 'obligation',
      detail: `SIENA ${alert.handlingCode} - no re-sharing without the originator's permission`,
    });
  }
  const country = c.registry.agencies[i]!.country;
  for (const rule of c.flagRules) {
    const triggered =
      rule.when === 'do-not-act-on'
        ? alert.doNotActOn.includes(country)
        : rule.when === 'capital-assurance'
          ? capitalAssured(ctx, i)
          : rule.when === `handling-${alert.handlingCode}`;
    if (triggered)
      result.push({
        ruleId: RULE_IDS.executionFlag,
        effect: 'obligation',
        policyRule: rule.id,
        detail: `${rule.flag}: ${rule.description.trim()}`,
      });
  }
  return result;
}
