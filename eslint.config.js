import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import backbone from './tools/eslint/backbone-boundaries.rule.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.backbone/**', 'infra/kafka/.cache/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    // Nest injects by the constructor's emitted parameter types: the type-import rule must know
    // about decorator metadata, or it would turn injected classes into type-only imports.
    languageOptions: { parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-console': 'error',
      // Libraries are reached only through their public index (the @backbone/<lib> alias).
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['**/libs/*/src/*', '../../libs/**', '../../../libs/**'], message: 'Import libs through @backbone/<lib>.' }],
        },
      ],
    },
  },
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'tools/**/*.ts'],
    plugins: { backbone },
    rules: {
      // docs/architecture.md: apps never import apps, libs import only lower libs, no cycles.
      'backbone/boundaries': 'error',
    },
  },
  {
    // The console's web app runs in the browser (apps/console/web, built by Vite).
    files: ['apps/console/web/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['apps/cli/**/*.ts', 'bench/**/*.ts', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
