import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BROKER_SCRIPT = join('infra', 'kafka', 'broker.sh');

/**
 * The repository this module runs from. Found by walking up rather than a fixed `../..` because the
 * same code runs from libs/infra/src (tests, ts-jest) and from dist/libs/infra/src (built CLI).
 */
export function repoRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, BROKER_SCRIPT))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${BROKER_SCRIPT} above ${start}`);
    dir = parent;
  }
}

export function brokerScript(root: string = repoRoot()): string {
  return join(root, BROKER_SCRIPT);
}

/**
 * `BACKBONE_HOME` (made absolute; empty or blank counts as unset), else `<repo>/.backbone`: where local
 * state (broker data, TLS, credentials, the embedded database) lives. The repo is found from this file,
 * not the working directory, so a process started from another folder shares the same state. The one
 * definition: `@backbone/persistence` re-exports it.
 */
export function backboneHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const override = env.BACKBONE_HOME?.trim();
  return override ? resolve(override) : join(repoRoot(), '.backbone');
}

export function kafkaStateDir(home: string = backboneHome()): string {
  return join(home, 'kafka');
}
