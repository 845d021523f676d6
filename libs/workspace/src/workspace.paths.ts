import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The bottom of the lib stack: where the repository and its local state are. Every lib that
// needs a path (the broker harness, the embedded database) takes it from here.

const MARKER = join('infra', 'kafka', 'broker.sh');

/**
 * The repository this module runs from. Found by walking up rather than a fixed `../..` because the
 * same code runs from libs/workspace/src (tests, ts-jest) and from dist/libs/workspace/src (built CLI).
 */
export function repoRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, MARKER))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${MARKER} above ${start}`);
    dir = parent;
  }
}

/**
 * `BACKBONE_HOME` (made absolute; empty or blank counts as unset), else `<repo>/.backbone`: where local
 * state (broker data, TLS, credentials, the embedded database) lives. The repo is found from this file,
 * not the working directory, so a process started from another folder shares the same state.
 */
export function backboneHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const override = env.BACKBONE_HOME?.trim();
  return override ? resolve(override) : join(repoRoot(), '.backbone');
}

/** `<repo>/policies` (registry and rules), found from this file so any working directory works; else `./policies`. */
export function defaultPoliciesDir(): string {
  try {
    const dir = join(repoRoot(), 'policies');
    if (existsSync(join(dir, 'registry.yaml'))) return dir;
  } catch {
    // Not inside the repository (an installed copy): the working directory's policies/.
  }
  return join(process.cwd(), 'policies');
}
