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

/** `BACKBONE_HOME`, else `<repo>/.backbone`: where local state (broker data, TLS, credentials) lives. */
export function backboneHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BACKBONE_HOME || join(repoRoot(), '.backbone'));
}

export function kafkaStateDir(home: string = backboneHome()): string {
  return join(home, 'kafka');
}
