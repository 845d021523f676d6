import type { PolicyDocument, PolicyRule } from '../policy-document.types.js';
import { RULE_IDS } from '../rule-ids.constants.js';

// The same rules as the engine, as far as Cedar can state them, generated from one policy
// document. Cedar decides allow/deny only: review holds (HOLD) and obligations (redactions,
// flags, noReshare) have no Cedar counterpart, so the baseline compares on allow vs deny
// (engine HOLD counts as allow: the recipient passed every deny rule).
//
// Data model: principal Agency::"<code>" with the registry facts as attributes and, as
// parents, the Exercise::"<id>" groups it takes part in and the AssuranceTo::"<originator>"
// groups of originators it gave a death-penalty assurance to; resource Alert::"<id>" with the
// alert's fields (the sender's registry facts copied in as senderKnown/senderMemberships);
// context.now is the decision time in epoch milliseconds.

/** Cedar policy id → engine rule id. One engine rule may need several Cedar policies. */
export type CedarPolicyIds = ReadonlyMap<string, string>;

export interface GeneratedCedarPolicies {
  /** Policy id → Cedar text, for PolicySet.staticPolicies. */
  readonly policies: Readonly<Record<string, string>>;
  readonly ruleIdOf: CedarPolicyIds;
  /** All of them as one readable document. */
  readonly text: string;
}

/** The one permit policy; the engine's allow rule id follows from the addressing mode. */
export const CEDAR_PERMIT_ID = 'addressing';

const str = (value: string) => JSON.stringify(value);
const set = (values: readonly string[]) => `[${values.map(str).join(', ')}]`;
const HEAD = 'forbid (principal, action == Action::"receive", resource)';
const NAMED = '(resource.mode == "EXPLICIT" && resource.explicit.contains(principal.code))';

export function generateCedarPolicies(policy: PolicyDocument): GeneratedCedarPolicies {
  const policies: Record<string, string> = {};
  const ruleIdOf = new Map<string, string>();
  const add = (ruleId: string, body: string, effect: 'permit' | 'forbid' = 'forbid') => {
    let id = ruleId;
    for (let n = 2; id in policies; n++) id = `${ruleId}#${n}`;
    const head = effect === 'forbid' ? HEAD : 'permit (principal, action == Action::"receive", resource)';
    policies[id] = `@id(${str(id)})\n${head}\nwhen {\n  ${body}\n};`;
    ruleIdOf.set(id, ruleId);
  };
  const first = <K extends PolicyRule['kind']>(kind: K) =>
    policy.rules.find((rule) => rule.kind === kind) as Extract<PolicyRule, { kind: K }> | undefined;
  const all = <K extends PolicyRule['kind']>(kind: K) =>
    policy.rules.filter((rule) => rule.kind === kind) as Extract<PolicyRule, { kind: K }>[];

  add(
    CEDAR_PERMIT_ID,
    'resource.mode == "ALL" ||\n  (resource.mode == "REGIONS" && resource.regions.contains(principal.region)) ||\n  ' + NAMED,
    'permit',
  );

  // Alert-wide denials.
  add(RULE_IDS.statusNotDeliverable, 'resource.status == "Draft" || resource.status == "System"');
  add(RULE_IDS.expired, 'resource.hasExpiry && resource.expires <= context.now');
  add(RULE_IDS.originatorUnknown, '!resource.senderKnown');
  const exerciseIds = all('exercise').map((rule) => rule.exerciseId);
  add(
    RULE_IDS.exerciseUnknown,
    `(resource.status == "Exercise" || resource.status == "Test") &&\n  !${set(exerciseIds)}.contains(resource.exerciseId)`,
  );
  const purposes = first('purpose-limits');
  for (const [type, allowed] of Object.entries(purposes?.noticeTypes ?? {})) {
    add(RULE_IDS.purposeNoticeType, `resource.noticeType == ${str(type)} && !${set(allowed ?? [])}.containsAll(resource.purposes)`);
  }

  // Per-recipient denials.
  add(RULE_IDS.selfOriginator, 'principal.code == resource.sender');
  add(RULE_IDS.neverTo, 'resource.neverTo.contains(principal.code)');
  add(RULE_IDS.exerciseNotParticipant, '(resource.status == "Exercise" || resource.status == "Test") && !(principal in resource.exercise)');
  add(RULE_IDS.notYetJoined, 'principal.joined > context.now');
  add(
    RULE_IDS.notAddressed,
    `!(resource.mode == "ALL" ||\n  (resource.mode == "REGIONS" && resource.regions.contains(principal.region)) ||\n  ${NAMED})`,
  );
  add(RULE_IDS.notReleasableTo, '!resource.releasableTo.isEmpty() && !resource.releasableTo.contains(principal.code)');
  add(RULE_IDS.tlpRedNotAddressed, `resource.tlp == "RED" && !${NAMED}`);
  add(RULE_IDS.scopePrivateNotAddressed, `resource.scope == "Private" && !${NAMED}`);
  const newMember = first('new-member');
  if (newMember) {
    add(
      RULE_IDS.joinedAfterSent,
      `${set(newMember.scopes)}.contains(resource.scope) && !${set(newMember.exemptNoticeTypes)}.contains(resource.noticeType) &&\n  resource.sent < principal.joined`,
    );
  }
  const transfer = first('third-country-transfer');
  if (transfer) {
    add(
      RULE_IDS.transferNoBasis,
      `resource.senderMemberships.containsAny(${set(transfer.area)}) && !principal.memberships.containsAny(${set(transfer.area)}) &&\n  ` +
        `!principal.adequacy && !principal.agreements.containsAny(${set(transfer.recognisedAgreements)}) &&\n  ` +
        '!resource.consentedThirdCountries.contains(principal.code)',
    );
  }
  const capital = first('capital-offence');
  if (capital) {
    add(
      RULE_IDS.capitalNoAssurance,
      `resource.capitalOffence && ${set(capital.recipientStatuses)}.contains(principal.deathPenalty) &&\n  !(principal in resource.assuranceGroup)`,
    );
  }
  for (const [agency, allowed] of Object.entries(purposes?.agencies ?? {})) {
    add(RULE_IDS.purposeAgency, `principal.code == ${str(agency)} && !${set(allowed)}.containsAll(resource.purposes)`);
  }

  const header =
    `// Cedar rendering of policy ${policy.version} (${policy.source}), generated by @backbone/policy.\n` +
    '// Review holds and obligations (redactions, flags, noReshare) have no Cedar counterpart.\n';
  return { policies, ruleIdOf, text: header + Object.values(policies).join('\n\n') + '\n' };
}
