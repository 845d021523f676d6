import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

// Proves each boundary rule can fail: ESLint's own API over a throw-away repository of bad fixtures.
const RULE_FILE = join(dirname(fileURLToPath(import.meta.url)), 'backbone-boundaries.rule.js');

const FIXTURES: Record<string, string> = {
  'apps/alpha/src/alpha.service.ts': "import { beta } from '../../beta/src/beta.service.js';\nexport const alpha = beta;\n",
  'apps/beta/src/beta.service.ts': 'export const beta = 1;\n',
  'apps/gamma/src/allowed.command.ts': "import { beta } from '../../beta/src/beta.service.js';\nexport const gamma = beta;\n",
  'apps/gamma/src/clean.service.ts': "import { low } from '@backbone/workspace';\nexport const clean = low;\n",
  'libs/workspace/src/index.ts': "import { high } from '@backbone/kafka';\nexport const low = high;\n",
  'libs/kafka/src/index.ts': 'export const high = 2;\n',
  'libs/codec/src/index.ts': "export { p } from './p.codec.js';\n",
  'libs/codec/src/p.codec.ts': "import type { Q } from './q.codec.js';\nexport const p = (q: Q): Q => q;\n",
  'libs/codec/src/q.codec.ts': "import { p } from './p.codec.js';\nexport type Q = number;\nexport const q = p;\n",
  'libs/codec/src/to-app.ts': "import { beta } from '../../../apps/beta/src/beta.service.js';\nexport const leak = beta;\n",
  'libs/mystery/src/index.ts': 'export const m = 0;\n',
};

describe('backbone/boundaries (ESLint rule)', () => {
  let root: string;
  let eslint: ESLint;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'boundaries-'));
    for (const [path, text] of Object.entries(FIXTURES)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const plugin = ((await import(RULE_FILE)) as { default: ESLint.Plugin }).default;
    eslint = new ESLint({
      cwd: root,
      overrideConfigFile: true,
      overrideConfig: [
        {
          files: ['**/*.ts'],
          languageOptions: { parser: tseslint.parser },
          plugins: { backbone: plugin },
          rules: { 'backbone/boundaries': ['error', { allowAppImports: ['apps/gamma/src/allowed.command.ts'] }] },
        },
      ],
    });
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const messagesOf = async (path: string): Promise<string[]> => {
    const [result] = await eslint.lintFiles([join(root, path)]);
    return result!.messages.map((m) => m.message);
  };

  it('fails an app importing another app', async () => {
    expect(await messagesOf('apps/alpha/src/alpha.service.ts')).toEqual([expect.stringContaining('apps/alpha imports apps/beta')]);
  });

  it('lets a listed exception through, and a clean file', async () => {
    expect(await messagesOf('apps/gamma/src/allowed.command.ts')).toEqual([]);
    expect(await messagesOf('apps/gamma/src/clean.service.ts')).toEqual([]);
  });

  it('fails a lib importing a lib of its own or a higher layer, an app, or having no layer', async () => {
    expect(await messagesOf('libs/workspace/src/index.ts')).toEqual([
      expect.stringContaining('libs/workspace (layer 0) imports @backbone/kafka'),
    ]);
    expect(await messagesOf('libs/codec/src/to-app.ts')).toEqual([expect.stringContaining('libs/codec imports apps/beta')]);
    expect(await messagesOf('libs/mystery/src/index.ts')).toEqual([expect.stringContaining('libs/mystery has no layer')]);
  });

  it('fails an import cycle, type-only imports included', async () => {
    expect(await messagesOf('libs/codec/src/p.codec.ts')).toEqual([
      expect.stringContaining('import cycle: libs/codec/src/p.codec.ts -> libs/codec/src/q.codec.ts -> libs/codec/src/p.codec.ts'),
    ]);
  });
});
