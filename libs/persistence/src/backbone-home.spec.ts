import { describe, expect, it } from '@jest/globals';
import { join, resolve } from 'node:path';
import { backboneHome } from './backbone-home.js';

describe('backboneHome', () => {
  it('is <repo root>/.backbone by default, wherever the process was started', () => {
    // Jest's rootDir is the repository root.
    expect(backboneHome({})).toBe(join(process.cwd(), '.backbone'));
  });

  it('honours BACKBONE_HOME, made absolute', () => {
    expect(backboneHome({ BACKBONE_HOME: '/srv/backbone' })).toBe('/srv/backbone');
    expect(backboneHome({ BACKBONE_HOME: 'state' })).toBe(resolve('state'));
    expect(backboneHome({ BACKBONE_HOME: '  ' })).toBe(join(process.cwd(), '.backbone'));
  });
});
