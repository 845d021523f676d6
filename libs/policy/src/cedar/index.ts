// Separate entry point: loads Cedar's WebAssembly, so only the benchmark and its tests import it.
export { cedarBaseline, type CedarBaseline, type CedarPairDecision } from './cedar.baseline.js';
export { generateCedarPolicies, type GeneratedCedarPolicies } from './cedar-policy.generator.js';
