import {
  FIELD_GROUPS,
  PURPOSES,
  REGIONS,
  type FieldGroup,
  type HandlingCode,
  type NoticeType,
  type Purpose,
  type Scope,
} from '@backbone/codec';
import type {
  CapitalOffenceRule,
  ExecutionFlagRule,
  ExerciseRule,
  NewMemberRule,
  PolicyDocument,
  PolicyRule,
  PurposeLimitsRule,
  RedactionExemption,
  RedactionRule,
  ReviewHoldRule,
  TransferRule,
  VictimProtectionRule,
} from './policy-document.types.js';
import type { Agency, Registry } from './registry.types.js';

// Compiling turns the registry and one policy document into flat per-agency arrays indexed by
// registry position, so deciding an alert is a loop over typed arrays with no lookups by code
// and no per-agency allocation besides the outcome itself.

/** Bit of a field group in a redaction mask (FIELD_GROUPS order). */
export const GROUP_BIT: Readonly<Record<FieldGroup, number>> = {
  BIOMETRICS: 1 << FIELD_GROUPS.indexOf('BIOMETRICS'),
  IDENTITY_DOCUMENTS: 1 << FIELD_GROUPS.indexOf('IDENTITY_DOCUMENTS'),
  VICTIM_DETAILS: 1 << FIELD_GROUPS.indexOf('VICTIM_DETAILS'),
};
export const ALL_PURPOSES_MASK = (1 << PURPOSES.length) - 1;

export function purposeMask(purposes: readonly Purpose[]): number {
  let mask = 0;
  for (const purpose of purposes) mask |= 1 << PURPOSES.indexOf(purpose);
  return mask;
}

export interface CompiledFlags {
  readonly doNotActOn: readonly string[];
  readonly capitalAssurance: readonly string[];
  readonly handling: Readonly<Record<HandlingCode, readonly string[]>>;
}

export interface CompiledNewMemberRule {
  readonly rule: NewMemberRule;
  readonly scopes: ReadonlySet<Scope>;
  readonly exempt: ReadonlySet<NoticeType>;
}

export interface CompiledReviewHold {
  readonly rule: ReviewHoldRule;
  readonly noticeTypes: ReadonlySet<NoticeType>;
  /** 0: any purpose. */
  readonly purposes: number;
}

/**
 * A registry and one policy version, compiled for the engine. Build it once per
 * (registry, policy) pair with compilePolicy and reuse it for every alert.
 */
export class CompiledPolicy {
  readonly policyVersion: string;
  readonly registryVersion: string;
  readonly size: number;
  /** Agency codes in registry order: outcome i is for codes[i]. */
  readonly codes: readonly string[];
  readonly indexByCode: ReadonlyMap<string, number>;
  /**
   * Index by code trimmed and upper-cased. Only denials (neverTo) look codes up here, so an
   * entry differing from a registry code by case or spacing never weakens a denial, while the
   * lists that admit (addressing, releasableTo, consent) keep exact matching and only narrow.
   */
  readonly indexByFoldedCode: ReadonlyMap<string, number>;
  readonly indicesByCountry: ReadonlyMap<string, readonly number[]>;
  readonly regionIndex: Uint8Array;
  readonly joinedMs: Float64Array;
  /** Member of the transfer rule's area (all 0 without a transfer rule). */
  readonly inArea: Uint8Array;
  /** Holds one of the transfer rule's recognised agreements. */
  readonly agreement: Uint8Array;
  /** Adequacy or a recognised agreement: may receive from inside the area without consent. */
  readonly transferBasis: Uint8Array;
  readonly capitalStatus: Uint8Array;
  /** Originator code → which recipients gave it an assurance. */
  readonly assurances: ReadonlyMap<string, Uint8Array>;
  /** Purposes each agency may receive alerts for (ALL_PURPOSES_MASK when unconstrained). */
  readonly agencyPurposes: Int32Array;
  readonly noticeTypePurposes: ReadonlyMap<NoticeType, number>;
  /** Groups redacted per agency by rules for any originator / for area originators only. */
  readonly redactAny: Uint8Array;
  readonly redactArea: Uint8Array;
  /** VICTIM_DETAILS bit for agencies without victim-support designation. */
  readonly victimRedact: Uint8Array;
  readonly victimCategories: ReadonlySet<string>;
  readonly exercises: ReadonlyMap<string, Uint8Array>;
  readonly reviewHolds: readonly CompiledReviewHold[];
  readonly newMember: CompiledNewMemberRule | null;
  readonly flags: CompiledFlags;

  readonly transferRule: TransferRule | null;
  readonly capitalRule: CapitalOffenceRule | null;
  readonly purposeRule: PurposeLimitsRule | null;
  readonly victimRule: VictimProtectionRule | null;
  readonly redactionRules: readonly RedactionRule[];
  readonly exerciseRules: ReadonlyMap<string, ExerciseRule>;
  readonly flagRules: readonly ExecutionFlagRule[];

  constructor(
    readonly registry: Registry,
    readonly policy: PolicyDocument,
  ) {
    const agencies = registry.agencies;
    const n = agencies.length;
    this.policyVersion = policy.version;
    this.registryVersion = registry.version;
    this.size = n;
    this.codes = agencies.map((agency) => agency.code);
    const indexByCode = new Map<string, number>();
    const indicesByCountry = new Map<string, number[]>();
    agencies.forEach((agency, i) => {
      if (indexByCode.has(agency.code)) throw new Error(`registry ${registry.source}: duplicate agency code ${agency.code}`);
      indexByCode.set(agency.code, i);
      const sameCountry = indicesByCountry.get(agency.country);
      if (sameCountry) sameCountry.push(i);
      else indicesByCountry.set(agency.country, [i]);
    });
    this.indexByCode = indexByCode;
    this.indexByFoldedCode = new Map([...indexByCode].map(([code, i]) => [foldCode(code), i]));
    this.indicesByCountry = indicesByCountry;
    this.regionIndex = Uint8Array.from(agencies, (agency) => REGIONS.indexOf(agency.region));
    this.joinedMs = Float64Array.from(agencies, (agency) => agency.joined.getTime());

    const rules = policy.rules;
    const first = <K extends PolicyRule['kind']>(kind: K) =>
      (rules.find((rule) => rule.kind === kind) as Extract<PolicyRule, { kind: K }> | undefined) ?? null;
    const all = <K extends PolicyRule['kind']>(kind: K) => rules.filter((rule) => rule.kind === kind) as Extract<PolicyRule, { kind: K }>[];

    this.transferRule = first('third-country-transfer');
    const transfer = this.transferRule;
    const isAreaMember = (agency: Agency) => transfer !== null && agency.memberships.some((m) => transfer.area.includes(m));
    const hasAgreement = (agency: Agency) => transfer !== null && agency.agreements.some((a) => transfer.recognisedAgreements.includes(a));
    this.inArea = Uint8Array.from(agencies, (agency) => (isAreaMember(agency) ? 1 : 0));
    this.agreement = Uint8Array.from(agencies, (agency) => (hasAgreement(agency) ? 1 : 0));
    this.transferBasis = Uint8Array.from(agencies, (agency, i) => (agency.adequacy || this.agreement[i] === 1 ? 1 : 0));

    this.capitalRule = first('capital-offence');
    const capital = this.capitalRule;
    this.capitalStatus = Uint8Array.from(agencies, (agency) => (capital?.recipientStatuses.includes(agency.deathPenalty) ? 1 : 0));
    const assurances = new Map<string, Uint8Array>();
    for (const [originator, recipients] of Object.entries(capital?.assurances ?? {})) {
      assurances.set(originator, this.maskOf(recipients));
    }
    this.assurances = assurances;

    this.purposeRule = first('purpose-limits');
    const purposeRule = this.purposeRule;
    this.agencyPurposes = Int32Array.from(agencies, (agency) => {
      const allowed = purposeRule?.agencies[agency.code];
      return allowed === undefined ? ALL_PURPOSES_MASK : purposeMask(allowed);
    });
    this.noticeTypePurposes = new Map(
      Object.entries(purposeRule?.noticeTypes ?? {}).map(([type, purposes]) => [type as NoticeType, purposeMask(purposes ?? [])]),
    );

    this.redactionRules = all('redaction');
    this.redactAny = new Uint8Array(n);
    this.redactArea = new Uint8Array(n);
    agencies.forEach((_agency, i) => {
      for (const rule of this.redactionRules) {
        if (this.isExempt(rule, i)) continue;
        if (rule.originators === 'area') this.redactArea[i]! |= GROUP_BIT[rule.group];
        else this.redactAny[i]! |= GROUP_BIT[rule.group];
      }
    });

    this.victimRule = first('victim-protection');
    this.victimCategories = new Set(this.victimRule?.categories ?? []);
    this.victimRedact = Uint8Array.from(agencies, (agency) => (agency.victimSupport ? 0 : GROUP_BIT.VICTIM_DETAILS));

    const exerciseRules = new Map<string, ExerciseRule>();
    const exercises = new Map<string, Uint8Array>();
    for (const rule of all('exercise')) {
      exerciseRules.set(rule.exerciseId, rule);
      exercises.set(rule.exerciseId, this.maskOf(rule.participants));
    }
    this.exerciseRules = exerciseRules;
    this.exercises = exercises;

    this.reviewHolds = all('review-hold').map((rule) => ({
      rule,
      noticeTypes: new Set(rule.noticeTypes),
      purposes: purposeMask(rule.purposes),
    }));
    const newMember = first('new-member');
    this.newMember = newMember && { rule: newMember, scopes: new Set(newMember.scopes), exempt: new Set(newMember.exemptNoticeTypes) };

    this.flagRules = all('execution-flag');
    // Deduplicated: documents built in code skip the loader's duplicate check.
    const flagsFor = (when: ExecutionFlagRule['when']) => [
      ...new Set(this.flagRules.filter((rule) => rule.when === when).map((rule) => rule.flag)),
    ];
    this.flags = {
      doNotActOn: flagsFor('do-not-act-on'),
      capitalAssurance: flagsFor('capital-assurance'),
      handling: { H0: [], H1: flagsFor('handling-H1'), H2: flagsFor('handling-H2'), H3: flagsFor('handling-H3') },
    };
  }

  /** Whether agency `i` has one of the facts that exempt it from a redaction rule. */
  isExempt(rule: RedactionRule, i: number): boolean {
    const agency = this.registry.agencies[i]!;
    return rule.exemptIf.some((exemption: RedactionExemption) => {
      switch (exemption) {
        case 'adequacy':
          return agency.adequacy;
        case 'areaMember':
          return this.inArea[i] === 1;
        case 'agreement':
          return this.agreement[i] === 1;
        case 'victimSupport':
          return agency.victimSupport;
      }
    });
  }

  /** Registry codes a policy names but the registry lacks are ignored (checkPolicyDir reports them). */
  private maskOf(codes: readonly string[]): Uint8Array {
    const mask = new Uint8Array(this.size);
    for (const code of codes) {
      const i = this.indexByCode.get(code);
      if (i !== undefined) mask[i] = 1;
    }
    return mask;
  }
}

const cache = new WeakMap<Registry, WeakMap<PolicyDocument, CompiledPolicy>>();

/** Compiles once per (registry, policy) object pair; later calls return the same instance. */
export function compilePolicy(registry: Registry, policy: PolicyDocument): CompiledPolicy {
  let byPolicy = cache.get(registry);
  if (!byPolicy) {
    byPolicy = new WeakMap();
    cache.set(registry, byPolicy);
  }
  let compiled = byPolicy.get(policy);
  if (!compiled) {
    compiled = new CompiledPolicy(registry, policy);
    byPolicy.set(policy, compiled);
  }
  return compiled;
}

/** How a denial list entry is matched against registry codes: case and surrounding space ignored. */
export function foldCode(code: string): string {
  return code.trim().toUpperCase();
}
