import { preparsePolicySet, statefulIsAuthorized, type EntityJson, type EntityUidJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { Alert } from '@backbone/codec';
import type { CompiledPolicy } from '../policy.compiler.js';
import { ALERT_RULE_IDS, RECIPIENT_DENY_RULE_IDS, RULE_IDS } from '../rule-ids.constants.js';
import { CEDAR_PERMIT_ID, generateCedarPolicies } from './cedar-policy.generator.js';

// A baseline for the benchmark (issue #8): the same decision made the way a general-purpose
// policy engine would, one (alert, agency) request at a time through Cedar's WebAssembly
// build. The policy set is parsed once (preparsePolicySet); each request still pays for
// building and passing its entities, which is part of what a per-pair engine costs.

export interface CedarPairDecision {
  readonly agency: string;
  readonly decision: 'allow' | 'deny';
  /** Engine rule id: for a deny the highest-precedence Cedar forbid that matched. */
  readonly ruleId: string;
  /** Every Cedar policy id that determined the decision. */
  readonly reasons: readonly string[];
}

export interface CedarBaseline {
  /** The generated Cedar policy set, readable. */
  readonly policyText: string;
  decidePair(alert: Alert, agency: string, now: Date): CedarPairDecision;
  decideAll(alert: Alert, now: Date): CedarPairDecision[];
}

const ACTION: EntityUidJson = { type: 'Action', id: 'receive' };
const DENY_PRECEDENCE: readonly string[] = [...Object.values(ALERT_RULE_IDS), ...Object.values(RECIPIENT_DENY_RULE_IDS)];
let instances = 0;

export function cedarBaseline(compiled: CompiledPolicy): CedarBaseline {
  const generated = generateCedarPolicies(compiled.policy);
  const policySetId = `backbone-${compiled.policyVersion}-${++instances}`;
  const parsed = preparsePolicySet(policySetId, { staticPolicies: generated.policies });
  if (parsed.type !== 'success') {
    throw new Error(`Cedar rejected the generated policy set: ${parsed.errors.map((error) => error.message).join('; ')}`);
  }
  const agencyEntities = compiled.registry.agencies.map((agency): EntityJson => ({
    uid: { type: 'Agency', id: agency.code },
    attrs: {
      code: agency.code,
      region: agency.region,
      memberships: [...agency.memberships],
      agreements: [...agency.agreements],
      adequacy: agency.adequacy,
      deathPenalty: agency.deathPenalty,
      joined: agency.joined.getTime(),
    },
    parents: [],
  }));
  // Group memberships from the policy: exercises and death-penalty assurances.
  for (const rule of compiled.policy.rules) {
    if (rule.kind === 'exercise') {
      for (const code of rule.participants) parentsOf(code)?.push({ type: 'Exercise', id: rule.exerciseId });
    } else if (rule.kind === 'capital-offence') {
      for (const [originator, recipients] of Object.entries(rule.assurances)) {
        for (const code of recipients) parentsOf(code)?.push({ type: 'AssuranceTo', id: originator });
      }
    }
  }
  function parentsOf(code: string): EntityUidJson[] | undefined {
    const i = compiled.indexByCode.get(code);
    return i === undefined ? undefined : agencyEntities[i]!.parents;
  }

  const alertEntity = (alert: Alert): EntityJson => {
    const senderIdx = compiled.indexByCode.get(alert.sender);
    const sender = senderIdx === undefined ? undefined : compiled.registry.agencies[senderIdx];
    return {
      uid: { type: 'Alert', id: alert.alertId },
      attrs: {
        sender: alert.sender,
        senderKnown: sender !== undefined,
        senderMemberships: [...(sender?.memberships ?? [])],
        status: alert.status,
        exerciseId: alert.exerciseId ?? '',
        exercise: { __entity: { type: 'Exercise', id: alert.exerciseId ?? '' } },
        assuranceGroup: { __entity: { type: 'AssuranceTo', id: alert.sender } },
        mode: alert.addressing.mode,
        regions: [...alert.addressing.regions],
        explicit: [...alert.addressing.agencies],
        releasableTo: [...alert.releasableTo],
        neverTo: [...alert.neverTo],
        consentedThirdCountries: [...alert.consentedThirdCountries],
        tlp: alert.tlp,
        scope: alert.scope,
        noticeType: alert.noticeType,
        purposes: [...alert.purposes],
        capitalOffence: alert.capitalOffence,
        hasExpiry: alert.expires !== null,
        expires: alert.expires?.getTime() ?? 0,
        sent: alert.sent.getTime(),
      },
      parents: [],
    };
  };

  const decideIndex = (alert: Alert, resource: EntityJson, i: number, now: Date): CedarPairDecision => {
    const principal = agencyEntities[i]!;
    const senderIdx = compiled.indexByCode.get(alert.sender);
    const entities = senderIdx === undefined || senderIdx === i ? [principal, resource] : [principal, agencyEntities[senderIdx]!, resource];
    const answer = statefulIsAuthorized({
      principal: principal.uid,
      action: ACTION,
      resource: resource.uid,
      context: { now: now.getTime() },
      preparsedPolicySetId: policySetId,
      entities,
    });
    if (answer.type !== 'success') throw new Error(`Cedar failed: ${answer.errors.map((error) => error.message).join('; ')}`);
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0) {
      // A forbid that errors is skipped by Cedar, which would turn a deny into an allow: fail loudly.
      throw new Error(`Cedar policy error: ${diagnostics.errors.map((error) => `${error.policyId}: ${error.error.message}`).join('; ')}`);
    }
    const reasons = diagnostics.reason;
    return { agency: compiled.codes[i]!, decision, reasons, ruleId: ruleIdFor(decision, reasons, alert) };
  };

  const ruleIdFor = (decision: 'allow' | 'deny', reasons: readonly string[], alert: Alert): string => {
    if (decision === 'allow') {
      return alert.addressing.mode === 'ALL'
        ? RULE_IDS.addressingAll
        : alert.addressing.mode === 'REGIONS'
          ? RULE_IDS.addressingRegions
          : RULE_IDS.addressingExplicit;
    }
    const ids = reasons.map((reason) => generated.ruleIdOf.get(reason) ?? reason).filter((id) => id !== CEDAR_PERMIT_ID);
    const ranked = ids.map((id) => DENY_PRECEDENCE.indexOf(id)).filter((rank) => rank >= 0);
    // No forbid matched: Cedar's default deny (the permit did not apply) means "not addressed".
    return ranked.length === 0 ? RULE_IDS.notAddressed : DENY_PRECEDENCE[Math.min(...ranked)]!;
  };

  return {
    policyText: generated.text,
    decidePair(alert, agency, now) {
      const i = compiled.indexByCode.get(agency);
      if (i === undefined) throw new Error(`cedarBaseline: agency ${agency} is not in the registry`);
      return decideIndex(alert, alertEntity(alert), i, now);
    },
    decideAll(alert, now) {
      const resource = alertEntity(alert);
      const decisions: CedarPairDecision[] = [];
      for (let i = 0; i < compiled.size; i++) decisions.push(decideIndex(alert, resource, i, now));
      return decisions;
    },
  };
}
