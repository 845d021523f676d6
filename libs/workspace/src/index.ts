export { backboneHome, repoRoot } from './workspace.paths.js';
