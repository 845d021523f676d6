#!/usr/bin/env node
// `npm run bench [-- --quick]`: installs and builds if needed, then runs the compiled benchmark.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildIfStale, installIfNeeded, root } from './prepare.js';

if (!installIfNeeded() || !buildIfStale()) process.exit(1);
const r = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'src', 'bench.main.js'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
