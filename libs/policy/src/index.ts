// @backbone/policy: the sovereignty policy engine. Pure apart from the loaders, which read
// the registry and policy files. The Cedar baseline (which loads WebAssembly) is a separate
// entry point, libs/policy/src/cedar/index.ts, so services never load it.
export { loadRegistry } from './registry.loader.js';
export { isIsoCountry } from './iso-countries.data.js';
export { loadPolicy, parsePolicyDocument, POLICY_VERSION } from './policy-document.loader.js';
export { compilePolicy } from './policy.compiler.js';
export type { CompiledPolicy } from './policy.compiler.js';
export { AlertValueError, decide } from './policy.engine.js';
export { applyObligations } from './obligations.redactor.js';
export { explain } from './decision.explainer.js';
export type { Explanation, FiredRule } from './decision.explainer.js';
export { checkPolicyDir } from './policy-dir.checker.js';
export { syntheticRegistry } from './synthetic-registry.generator.js';
export { PolicyValidationError, formatIssue } from './policy-validation.error.js';
export type { ValidationIssue } from './policy-validation.error.js';
export { GATE_RULE_IDS, RULE_IDS } from './rule-ids.constants.js';
export type { DecidingRuleId, GateRuleId, RuleId } from './rule-ids.constants.js';
export type { Agency, DeathPenaltyStatus, Membership, Registry } from './registry.types.js';
export type { PolicyDocument, PolicyRule, RuleKind } from './policy-document.types.js';
export type { Decision, RecipientOutcome } from './decision.types.js';
