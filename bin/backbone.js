#!/usr/bin/env node
// The package bin: runs the compiled CLI, (re)building it first when the sources are newer.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfStale, root } from '../scripts/prepare.js';

const quietBuild = () => {
  // Keep the CLI's stdout clean for scripts that parse it: build progress goes to stderr.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);
  try {
    return buildIfStale(['ignore', 2, 2]);
  } finally {
    process.stdout.write = write;
  }
};
if (!quietBuild()) process.exit(1);
await import(pathToFileURL(join(root, 'dist', 'apps', 'cli', 'src', 'main.js')).href);
