import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the fault tier's own cluster lives and listens: never the shared development broker. */
export interface FaultCluster {
  home: string;
  clientPort: number;
  controllerPort: number;
  /** What broker.sh reads (BACKBONE_HOME and the two base ports). */
  env: Record<string, string>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function faultCluster(env: NodeJS.ProcessEnv = process.env): FaultCluster {
  const home = env['BACKBONE_FAULTS_HOME'] || join(ROOT, '.backbone-faults');
  const clientPort = Number(env['BACKBONE_FAULTS_KAFKA_PORT'] || 29092);
  const controllerPort = Number(env['BACKBONE_FAULTS_CONTROLLER_PORT'] || 29192);
  return {
    home,
    clientPort,
    controllerPort,
    env: {
      BACKBONE_HOME: home,
      BACKBONE_KAFKA_PORT: String(clientPort),
      BACKBONE_KAFKA_CONTROLLER_PORT: String(controllerPort),
      BACKBONE_KAFKA_HEAP: '384m',
      // The client-side JIT only (C1). Three brokers and seven services share 2 cores here, each in
      // its own session, so a restarted broker's JVM gets a small share of them: with C2 compiling
      // too, a SIGKILLed broker took 85 s to start again, with C1 alone 37 s; nothing here needs
      // C2's peak throughput.
      BACKBONE_KAFKA_JVM_FLAGS: '-XX:TieredStopAtLevel=1',
    },
  };
}

/** Node i's (1-based) client and controller ports, as broker.sh assigns them. */
export function nodePorts(c: FaultCluster, node: number): { client: number; controller: number } {
  return { client: c.clientPort + node - 1, controller: c.controllerPort + node - 1 };
}

export function nodePidFile(c: FaultCluster, node: number): string {
  return join(c.home, 'kafka', `node-${node}`, 'kafka.pid');
}
