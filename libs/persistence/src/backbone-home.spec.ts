import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backboneHome } from './index.js';

/** The repository root, found from this file (the manifest named `backbone`), independently of the code under test. */
function repoRootOfThisFile(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'backbone') return dir;
    if (dirname(dir) === dir) throw new Error('no package.json named backbone above this spec');
  }
}

/** Runs `fn` with the working directory elsewhere, so a cwd-based answer cannot pass by accident. */
function fromAnotherFolder<T>(fn: () => T): T {
  const before = process.cwd();
  process.chdir(tmpdir());
  try {
    return fn();
  } finally {
    process.chdir(before);
  }
}

describe('backboneHome (re-exported from @backbone/infra)', () => {
  const expected = join(repoRootOfThisFile(), '.backbone');

  it('is <repo root>/.backbone when BACKBONE_HOME is unset, wherever the process was started', () => {
    expect(fromAnotherFolder(() => backboneHome({}))).toBe(expected);
  });

  it('treats an empty or blank BACKBONE_HOME as unset', () => {
    expect(fromAnotherFolder(() => backboneHome({ BACKBONE_HOME: '' }))).toBe(expected);
    expect(fromAnotherFolder(() => backboneHome({ BACKBONE_HOME: ' \t ' }))).toBe(expected);
  });

  it('honours BACKBONE_HOME, trimmed and made absolute', () => {
    expect(backboneHome({ BACKBONE_HOME: '/srv/backbone' })).toBe('/srv/backbone');
    expect(backboneHome({ BACKBONE_HOME: '  /srv/backbone  ' })).toBe('/srv/backbone');
    expect(backboneHome({ BACKBONE_HOME: 'state' })).toBe(resolve('state'));
  });
});
