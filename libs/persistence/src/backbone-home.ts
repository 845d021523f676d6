import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `${BACKBONE_HOME:-<repo root>/.backbone}`. The repo root is found from this file rather than
 * from the working directory, so a service started from another folder still shares the same
 * state (and the same embedded database) as the tests.
 */
export function backboneHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const override = env.BACKBONE_HOME?.trim();
  if (override) return resolve(override);
  return join(findRepoRoot(dirname(fileURLToPath(import.meta.url))) ?? process.cwd(), '.backbone');
}

function findRepoRoot(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'backbone') return dir;
      } catch {
        // An unreadable manifest on the way up is not ours; keep climbing.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
