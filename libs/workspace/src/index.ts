export { backboneHome, defaultPoliciesDir, repoRoot } from './workspace.paths.js';
