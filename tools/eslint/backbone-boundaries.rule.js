// ESLint rule `backbone/boundaries`: the module map in docs/architecture.md, enforced.
//  - an app never imports another app (apps share code through libs);
//  - a lib imports only libs below it in LIB_LAYERS (and never an app); tests may use any lib;
//  - no import cycle between files (type-only imports count: they still tie the files together).
// Imports are read from the files on disk with a light parser (static `import`/`export ... from`),
// resolving relative paths and `@backbone/<lib>[/<sub>]` to the lib's index.ts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Lower layers first; a lib may import only libs of a strictly lower layer. */
export const LIB_LAYERS = [
  ['workspace', 'auth', 'codec', 'telemetry'],
  ['bootstrap', 'persistence', 'policy'],
  ['kafka', 'gate-store', 'inbox-store', 'office-store', 'office-auth', 'ledger'],
  ['infra'],
  ['testing'],
];

const layerOf = new Map(LIB_LAYERS.flatMap((libs, i) => libs.map((l) => [l, i])));
const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/g;
const TEST_FILE = /\.(spec|int-spec|e2e-spec|fault-spec)\.ts$/;

/** `{ kind: 'app' | 'lib' | 'other', name }` of a repo-relative path. */
function ownerOf(rel) {
  const parts = rel.split(/[\\/]/);
  if (parts[0] === 'apps' && parts.length > 2) return { kind: 'app', name: parts[1] };
  if (parts[0] === 'libs' && parts.length > 2) return { kind: 'lib', name: parts[1] };
  return { kind: 'other', name: parts[0] };
}

function resolveImport(root, fromFile, spec) {
  const lib = /^@backbone\/([a-z-]+)(?:\/([a-z-]+))?$/.exec(spec);
  if (lib) return join(root, 'libs', lib[1], 'src', ...(lib[2] ? [lib[2]] : []), 'index.ts');
  if (!spec.startsWith('.')) return null;
  const target = resolve(dirname(fromFile), spec);
  for (const candidate of [target.replace(/\.js$/, '.ts'), target, `${target}.ts`, join(target, 'index.ts')]) {
    if (existsSync(candidate) && candidate.endsWith('.ts')) return candidate;
  }
  return null;
}

function importsOf(root, file, cache) {
  let found = cache.get(file);
  if (found) return found;
  found = [];
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // A file that vanished or cannot be read has no edges.
  }
  for (const m of text.matchAll(IMPORT)) {
    const target = resolveImport(root, file, m[1]);
    if (target) found.push(target);
  }
  cache.set(file, found);
  return found;
}

/** A path from `start`'s imports back to `start`, or null. */
function cycleThrough(root, start, cache) {
  const seen = new Set();
  const stack = importsOf(root, start, cache).map((f) => [f, [start, f]]);
  while (stack.length > 0) {
    const [file, path] = stack.pop();
    if (file === start) return path;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const next of importsOf(root, file, cache)) stack.push([next, [...path, next]]);
  }
  return null;
}

/** @type {import('eslint').Rule.RuleModule} */
export const boundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'apps never import apps; libs import only lower libs; no import cycles' },
    schema: [
      { type: 'object', properties: { allowAppImports: { type: 'array', items: { type: 'string' } } }, additionalProperties: false },
    ],
    messages: {
      appToApp: 'apps/{{from}} imports apps/{{to}}: apps share code through a lib (move it to libs/ with a small index.ts).',
      libToApp: 'libs/{{from}} imports apps/{{to}}: a lib never depends on an app.',
      upward:
        'libs/{{from}} (layer {{fromLayer}}) imports @backbone/{{to}} (layer {{toLayer}}): a lib imports only lower layers (LIB_LAYERS).',
      unknownLib: 'libs/{{lib}} has no layer in LIB_LAYERS (tools/eslint/backbone-boundaries.rule.js).',
      cycle: 'import cycle: {{path}}',
    },
  },
  create(context) {
    const root = context.cwd;
    const file = context.filename;
    const rel = relative(root, file);
    if (rel.startsWith('..')) return {};
    const me = ownerOf(rel);
    const allowed = new Set(context.options[0]?.allowAppImports ?? []);
    const isTest = TEST_FILE.test(file);
    const cache = new Map();
    return {
      Program(node) {
        if (me.kind === 'lib' && !layerOf.has(me.name)) context.report({ node, messageId: 'unknownLib', data: { lib: me.name } });
        const path = cycleThrough(root, file, cache);
        if (path)
          context.report({
            node,
            messageId: 'cycle',
            data: { path: path.map((p) => relative(root, p).split(sep).join('/')).join(' -> ') },
          });
      },
      'ImportDeclaration, ExportNamedDeclaration, ExportAllDeclaration'(node) {
        if (!node.source) return;
        const target = resolveImport(root, file, String(node.source.value));
        if (!target) return;
        const them = ownerOf(relative(root, target));
        if (them.kind === 'app' && them.name !== me.name) {
          if (me.kind === 'lib') context.report({ node, messageId: 'libToApp', data: { from: me.name, to: them.name } });
          else if (me.kind === 'app' && !allowed.has(rel.split(sep).join('/'))) {
            context.report({ node, messageId: 'appToApp', data: { from: me.name, to: them.name } });
          }
        }
        if (me.kind === 'lib' && them.kind === 'lib' && them.name !== me.name && !isTest) {
          const fromLayer = layerOf.get(me.name);
          const toLayer = layerOf.get(them.name);
          if (fromLayer !== undefined && toLayer !== undefined && toLayer >= fromLayer) {
            context.report({ node, messageId: 'upward', data: { from: me.name, to: them.name, fromLayer, toLayer } });
          }
        }
      },
    };
  },
};

export default { rules: { boundaries } };
