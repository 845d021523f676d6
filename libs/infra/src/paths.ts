import { join } from 'node:path';
import { backboneHome, repoRoot } from '@backbone/workspace';

export { backboneHome, repoRoot };

const BROKER_SCRIPT = join('infra', 'kafka', 'broker.sh');

export function brokerScript(root: string = repoRoot()): string {
  return join(root, BROKER_SCRIPT);
}

export function kafkaStateDir(home: string = backboneHome()): string {
  return join(home, 'kafka');
}
