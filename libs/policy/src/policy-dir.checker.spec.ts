import { describe, expect, it } from '@jest/globals';
import { checkPolicyDir } from './policy-dir.checker.js';

const BROKEN = 'libs/policy/src/testing/fixtures/broken';

describe('checkPolicyDir', () => {
  it('finds nothing wrong with the shipped policies or a valid fixture', () => {
    expect(checkPolicyDir('policies')).toEqual([]);
    expect(checkPolicyDir('libs/policy/src/testing/fixtures/two-versions')).toEqual([]);
  });

  it('reports every problem with file, rule and field', () => {
    const issues = checkPolicyDir(BROKEN).map((issue) => `${issue.file.replace(`${BROKEN}/`, '')} | ${issue.path} | ${issue.message}`);
    expect(issues).toEqual([
      'rules/notes.yaml |  | not a policy document: name policy files <version>.yaml (e.g. 2026-11-01.yaml)',
      'rules/2026-11-01.yaml | rules[2] (id=capital).assurances.FR-NCB[0] | agency US-NCB is not in the registry (libs/policy/src/testing/fixtures/broken/registry.yaml)',
      'rules/2026-11-01.yaml | rules[3] (id=drill).participants[1] | agency XX-NCB is not in the registry (libs/policy/src/testing/fixtures/broken/registry.yaml)',
      'rules/2026-12-01.yaml | version | "2026-12-02" does not match the file name (2026-12-01); name the file <version>.yaml',
      'rules/2026-12-01.yaml | rules[1] (id=new-members).scopes[1] | "Secret" is not one of: Public, Restricted, Private',
      'rules/2026-12-01.yaml | rules[2] (id=holds).recipients | unknown field (expected one of: id, kind, description, noticeTypes, purposes)',
      'rules/2026-12-01.yaml | rules[0] (id=victims).categories | must include TRAFFICKING_VICTIM',
      'rules/2026-12-01.yaml | rules | an execution-flag rule with when: do-not-act-on is required: do-not-act-on territories must reach the recipients',
    ]);
  });

  it('reports a missing registry and missing rules', () => {
    expect(checkPolicyDir('libs/policy/src/testing')).toEqual(
      expect.arrayContaining([
        { file: 'libs/policy/src/testing/registry.yaml', path: '', message: 'registry.yaml is missing' },
        { file: 'libs/policy/src/testing', path: '', message: 'no policy documents (<version>.yaml) found' },
      ]),
    );
  });
});
