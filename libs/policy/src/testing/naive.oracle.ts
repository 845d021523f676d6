// A deliberately naive second implementation of the sharing rules, for property tests.
// It reads the registry and the policy document directly (no compilation, no bit masks, no
// shared check tables), one agency at a time, straight from docs/policy.md. If it and the
// engine disagree on a random case, one of them is wrong.
import type { Alert, DecisionOutcome, FieldGroup } from '@backbone/codec';
import type { PolicyDocument, PolicyRule } from '../policy-document.types.js';
import type { Agency, Registry } from '../registry.types.js';

export interface OracleOutcome {
  agency: string;
  outcome: DecisionOutcome;
  ruleId: string;
  redactedGroups: FieldGroup[];
  executionFlags: string[];
  noReshare: boolean;
}

export function oracleDecide(alert: Alert, registry: Registry, policy: PolicyDocument, now: Date): OracleOutcome[] {
  return registry.agencies.map((agency) => oracleFor(alert, agency, registry, policy, now));
}

function rulesOf<K extends PolicyRule['kind']>(policy: PolicyDocument, kind: K): Extract<PolicyRule, { kind: K }>[] {
  const found: Extract<PolicyRule, { kind: K }>[] = [];
  for (const rule of policy.rules) if (rule.kind === kind) found.push(rule as Extract<PolicyRule, { kind: K }>);
  return found;
}

function oracleFor(alert: Alert, agency: Agency, registry: Registry, policy: PolicyDocument, now: Date): OracleOutcome {
  const deny = (ruleId: string): OracleOutcome => ({
    agency: agency.code,
    outcome: 'DENY',
    ruleId,
    redactedGroups: [],
    executionFlags: [],
    noReshare: false,
  });
  const code = agency.code;

  // 1. Alert-wide.
  if (alert.status === 'Draft') return deny('status.not-deliverable');
  if (alert.status === 'System') return deny('status.not-deliverable');
  if (alert.expires !== null && !(alert.expires.getTime() > now.getTime())) return deny('expiry.expired');
  const sender = registry.agencies.find((candidate) => candidate.code === alert.sender);
  if (sender === undefined) return deny('originator.unknown');
  const exerciseTraffic = alert.status === 'Exercise' || alert.status === 'Test';
  const exercise = rulesOf(policy, 'exercise').find((rule) => rule.exerciseId === alert.exerciseId);
  if (exerciseTraffic && exercise === undefined) return deny('exercise.unknown');
  const purposeRule = rulesOf(policy, 'purpose-limits')[0];
  const forType = purposeRule?.noticeTypes[alert.noticeType];
  if (forType !== undefined) {
    for (const purpose of alert.purposes) if (!forType.includes(purpose)) return deny('purpose.notice-type');
  }

  // 2. Per recipient.
  if (code === alert.sender) return deny('self.originator');
  if (alert.neverTo.includes(code)) return deny('deny.never-to');
  if (exerciseTraffic && !exercise!.participants.includes(code)) return deny('exercise.not-participant');
  if (agency.joined.getTime() > now.getTime()) return deny('membership.not-yet-joined');
  let addressed = false;
  if (alert.addressing.mode === 'ALL') addressed = true;
  if (alert.addressing.mode === 'REGIONS') addressed = alert.addressing.regions.includes(agency.region);
  if (alert.addressing.mode === 'EXPLICIT') addressed = alert.addressing.agencies.includes(code);
  if (!addressed) return deny('addressing.not-addressed');
  if (alert.releasableTo.length > 0 && !alert.releasableTo.includes(code)) return deny('deny.not-releasable-to');
  const named = alert.addressing.mode === 'EXPLICIT' && alert.addressing.agencies.includes(code);
  if (alert.tlp === 'RED' && !named) return deny('tlp.red.not-addressed');
  if (alert.scope === 'Private' && !named) return deny('scope.private.not-addressed');
  const newMember = rulesOf(policy, 'new-member')[0];
  if (
    newMember !== undefined &&
    newMember.scopes.includes(alert.scope) &&
    !newMember.exemptNoticeTypes.includes(alert.noticeType) &&
    alert.sent.getTime() < agency.joined.getTime()
  ) {
    return deny('membership.joined-after-sent');
  }
  const transfer = rulesOf(policy, 'third-country-transfer')[0];
  const inArea = (who: Agency) => transfer !== undefined && who.memberships.some((membership) => transfer.area.includes(membership));
  const hasAgreement = (who: Agency) =>
    transfer !== undefined && who.agreements.some((agreement) => transfer.recognisedAgreements.includes(agreement));
  if (transfer !== undefined && inArea(sender) && !inArea(agency)) {
    const basis = agency.adequacy || hasAgreement(agency) || alert.consentedThirdCountries.includes(code);
    if (!basis) return deny('transfer.no-basis');
  }
  const capital = rulesOf(policy, 'capital-offence')[0];
  const assured = capital !== undefined && (capital.assurances[sender.code] ?? []).includes(code);
  const capitalConcerned = capital !== undefined && alert.capitalOffence && capital.recipientStatuses.includes(agency.deathPenalty);
  if (capitalConcerned && !assured) return deny('capital.no-assurance');
  const agencyPurposes = purposeRule?.agencies[code];
  if (agencyPurposes !== undefined) {
    for (const purpose of alert.purposes) if (!agencyPurposes.includes(purpose)) return deny('purpose.agency-not-permitted');
  }

  // 3. Obligations, computed for held recipients too.
  const subject = alert.subject;
  const present: Record<FieldGroup, boolean> = {
    BIOMETRICS: subject !== null && subject.biometrics !== null,
    IDENTITY_DOCUMENTS: subject !== null && subject.identityDocuments.length > 0,
    VICTIM_DETAILS: subject !== null && subject.victim !== null,
  };
  const redacted: FieldGroup[] = [];
  const redact = (group: FieldGroup) => {
    if (present[group] && !redacted.includes(group)) redacted.push(group);
  };
  for (const rule of rulesOf(policy, 'redaction')) {
    if (rule.originators === 'area' && !inArea(sender)) continue;
    let exempt = false;
    for (const exemption of rule.exemptIf) {
      if (exemption === 'adequacy' && agency.adequacy) exempt = true;
      if (exemption === 'areaMember' && inArea(agency)) exempt = true;
      if (exemption === 'agreement' && hasAgreement(agency)) exempt = true;
      if (exemption === 'victimSupport' && agency.victimSupport) exempt = true;
    }
    if (!exempt) redact(rule.group);
  }
  const victimRule = rulesOf(policy, 'victim-protection')[0];
  if (victimRule !== undefined && subject?.victim && victimRule.categories.includes(subject.victim.category) && !agency.victimSupport) {
    redact('VICTIM_DETAILS');
  }
  const flags: string[] = [];
  for (const rule of rulesOf(policy, 'execution-flag')) {
    let fires = false;
    if (rule.when === 'do-not-act-on') fires = alert.doNotActOn.includes(agency.country);
    if (rule.when === 'handling-H1') fires = alert.handlingCode === 'H1';
    if (rule.when === 'handling-H2') fires = alert.handlingCode === 'H2';
    if (rule.when === 'handling-H3') fires = alert.handlingCode === 'H3';
    if (rule.when === 'capital-assurance') fires = capitalConcerned && assured;
    if (fires && !flags.includes(rule.flag)) flags.push(rule.flag);
  }
  const noReshare = alert.tlp === 'RED' || alert.tlp === 'AMBER_STRICT' || alert.handlingCode === 'H2' || alert.handlingCode === 'H3';

  // 4. Review hold, then the allow.
  const held = rulesOf(policy, 'review-hold').some(
    (rule) =>
      rule.noticeTypes.includes(alert.noticeType) &&
      (rule.purposes.length === 0 || alert.purposes.length === 0 || rule.purposes.some((purpose) => alert.purposes.includes(purpose))),
  );
  const base = { agency: code, redactedGroups: redacted, executionFlags: flags, noReshare };
  if (held) return { ...base, outcome: 'HOLD', ruleId: 'review.hold' };
  const ruleId = { ALL: 'addressing.all', REGIONS: 'addressing.regions', EXPLICIT: 'addressing.explicit' }[alert.addressing.mode];
  const obligations = redacted.length > 0 || flags.length > 0 || noReshare;
  return { ...base, outcome: obligations ? 'ALLOW_WITH_OBLIGATIONS' : 'ALLOW', ruleId };
}
