import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { listPolicyFiles, rulesDirOf, validatePolicyDocument } from './policy-document.loader.js';
import type { PolicyDocument } from './policy-document.types.js';
import type { ValidationIssue } from './policy-validation.error.js';
import { validateRegistry } from './registry.loader.js';
import type { Registry } from './registry.types.js';
import { IssueCollector, parseYaml } from './yaml-fields.reader.js';

/**
 * Everything wrong with a policies directory (registry.yaml plus rules/<version>.yaml), for
 * `backbone policy check DIR`. An empty list means the directory is good to deploy. On top of
 * what the loaders check, every agency code a policy names must exist in the registry: the
 * engine ignores unknown codes, so a typo would silently drop an assurance or a participant.
 */
export function checkPolicyDir(dir: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const registryPath = joinPath(dir, 'registry.yaml');
  let registry: Registry | undefined;
  if (!existsSync(registryPath)) {
    issues.push({ file: registryPath, path: '', message: 'registry.yaml is missing' });
  } else {
    const out = new IssueCollector(registryPath);
    registry = validateRegistry(parseYaml(readFileSync(registryPath, 'utf8'), out), out);
    issues.push(...out.issues);
  }

  const rulesDir = rulesDirOf(dir);
  const policyFiles = existsSync(rulesDir) ? listPolicyFiles(rulesDir) : [];
  if (existsSync(rulesDir) && rulesDir !== dir) {
    for (const name of readdirSync(rulesDir)) {
      if (!policyFiles.some((file) => file.path === joinPath(rulesDir, name))) {
        issues.push({
          file: joinPath(rulesDir, name),
          path: '',
          message: 'not a policy document: name policy files <version>.yaml (e.g. 2026-11-01.yaml)',
        });
      }
    }
  }
  if (policyFiles.length === 0) issues.push({ file: rulesDir, path: '', message: 'no policy documents (<version>.yaml) found' });

  for (const file of policyFiles) {
    const out = new IssueCollector(file.path);
    const policy = validatePolicyDocument(parseYaml(readFileSync(file.path, 'utf8'), out), out);
    issues.push(...out.issues);
    if (policy && registry) issues.push(...crossCheck(policy, registry));
  }
  return issues;
}

/** Agency codes the policy names that the registry does not know. */
export function crossCheck(policy: PolicyDocument, registry: Registry): ValidationIssue[] {
  const known = new Set(registry.agencies.map((agency) => agency.code));
  const issues: ValidationIssue[] = [];
  const check = (index: number, id: string, field: string, code: string) => {
    if (!known.has(code)) {
      issues.push({
        file: policy.source,
        path: `rules[${index}] (id=${id}).${field}`,
        message: `agency ${code} is not in the registry (${registry.source})`,
      });
    }
  };
  policy.rules.forEach((rule, index) => {
    switch (rule.kind) {
      case 'capital-offence':
        for (const [originator, recipients] of Object.entries(rule.assurances)) {
          check(index, rule.id, `assurances.${originator}`, originator);
          recipients.forEach((code, k) => check(index, rule.id, `assurances.${originator}[${k}]`, code));
        }
        break;
      case 'purpose-limits':
        for (const code of Object.keys(rule.agencies)) check(index, rule.id, `agencies.${code}`, code);
        break;
      case 'exercise':
        rule.participants.forEach((code, k) => check(index, rule.id, `participants[${k}]`, code));
        break;
      default:
        break;
    }
  });
  return issues;
}
