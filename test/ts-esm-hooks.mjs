// Node ESM loader hooks for code jest runs outside its module runtime (globalSetup): there neither
// jest's moduleNameMapper nor ts-jest applies, so `@backbone/<lib>` and `.ts` files would not load.
// Mirrors jest.config.js: `@backbone/x` and `@backbone/x/y` map to libs, `./f.js` to `./f.ts`, and
// TypeScript is transpiled (types erased, decorators kept) with the repository's compiler.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = new URL('../', import.meta.url);
const ts = createRequire(import.meta.url)('typescript');

export async function resolve(specifier, context, next) {
  const lib = /^@backbone\/([a-z-]+)(?:\/([a-z-]+))?$/.exec(specifier);
  if (lib) {
    const path = lib[2] ? `libs/${lib[1]}/src/${lib[2]}/index.ts` : `libs/${lib[1]}/src/index.ts`;
    return { url: new URL(path, root).href, shortCircuit: true };
  }
  if (/^\.{1,2}\//.test(specifier) && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const out = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      sourceMap: false,
      inlineSourceMap: true,
    },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}

export const hooksUrl = pathToFileURL(fileURLToPath(import.meta.url)).href;
