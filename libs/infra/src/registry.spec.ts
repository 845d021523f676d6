import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readAgencyCodes } from './registry.js';
import { repoRoot } from './paths.js';

function registry(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'registry-')), 'registry.yaml');
  writeFileSync(file, yaml);
  return file;
}

describe('readAgencyCodes', () => {
  it('reads the real registry', () => {
    const codes = readAgencyCodes(join(repoRoot(), 'policies', 'registry.yaml'));
    expect(codes).toContain('FR-NCB');
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('rejects codes that are unsafe as principal or topic names', () => {
    expect(() => readAgencyCodes(registry('agencies:\n  - { code: "FR NCB" }\n'))).toThrow(/agencies\[0\]\.code/);
    expect(() => readAgencyCodes(registry('agencies:\n  - { code: "../x" }\n'))).toThrow(/not a valid agency code/);
  });

  it('rejects duplicates and a missing list', () => {
    expect(() => readAgencyCodes(registry('agencies:\n  - { code: FR-NCB }\n  - { code: FR-NCB }\n'))).toThrow(/twice/);
    expect(() => readAgencyCodes(registry('version: 1\n'))).toThrow(/no "agencies"/);
  });
});
