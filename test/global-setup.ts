// Jest globalSetup for the int and e2e projects: picks the Kafka broker (and database) the tests use and
// exports how to reach them as environment variables, which the test workers inherit.
//
//   KAFKA_BROKERS set        → that broker (KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD / KAFKA_CA_FILE if set);
//   BACKBONE_KAFKA_RUNTIME=docker and a Docker engine answers → infra/compose.yaml through testcontainers
//                            (only Kafka runs in Docker; PostgreSQL is chosen as below either way);
//   otherwise                → the local harness broker (infra/kafka/broker.sh), started if it is not running.
//
// PostgreSQL, whichever broker is used: DATABASE_URL if set, else the local server on 127.0.0.1:5432, else an
// embedded one (see @backbone/persistence ensureDatabase).
//
// The local broker is left running afterwards so the next run starts in well under a second; the Docker
// container is removed by the testcontainers reaper when jest exits.
import { execFile } from 'node:child_process';
import { register } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';

type Infra = typeof import('@backbone/infra');

export default async function globalSetup(): Promise<void> {
  // Jest runs this file outside its module runtime: without these hooks `@backbone/*` and .ts imports fail.
  register('./ts-esm-hooks.mjs', import.meta.url);
  const infra: Infra = await import('@backbone/infra');
  const log = (line: string): void => void process.stderr.write(`[global-setup] ${line}\n`);

  if (process.env.KAFKA_BROKERS) {
    log(`using the broker at ${process.env.KAFKA_BROKERS} (KAFKA_BROKERS)`);
    process.env.BACKBONE_KAFKA_PRINCIPALS = 'external';
  } else if (process.env.BACKBONE_KAFKA_RUNTIME === 'docker' && (await dockerAnswers())) {
    await useCompose(infra, log);
  } else {
    await useLocalBroker(infra, log);
  }

  // Database: DATABASE_URL if set, else local PostgreSQL on 127.0.0.1:5432, else an embedded server.
  const { ensureDatabase } = await import('@backbone/persistence');
  process.env.DATABASE_URL = (await ensureDatabase()).url;
}

async function useLocalBroker(infra: Infra, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const home = infra.backboneHome();
  const broker = await infra.ensureBroker({ home, log: (l) => log(l) });
  const access = await infra.bootstrapAccess(undefined, { home, log: (l) => log(l) });
  exportBroker(broker.brokers, broker.caFile, home);
  const what = access.skipped
    ? 'access unchanged'
    : `${access.principalsCreated.length} principals, ${access.topicsCreated.length} topics, ${access.aclsCreated} ACLs created`;
  log(`local broker ${broker.brokers.join(',')} ready in ${Date.now() - started} ms (${what})`);
}

function exportBroker(brokers: string[], caFile: string, home: string): void {
  process.env.KAFKA_BROKERS = brokers.join(',');
  process.env.KAFKA_CA_FILE = caFile;
  process.env.KAFKA_SASL_MECHANISM = 'scram-sha-512';
  process.env.BACKBONE_HOME = home;
  // Test helpers read per-principal passwords from BACKBONE_HOME; the secret itself is not put in the environment.
  process.env.BACKBONE_KAFKA_PRINCIPALS = 'bootstrapped';
}

async function dockerAnswers(): Promise<boolean> {
  try {
    await promisify(execFile)('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 3000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Docker path (not exercised on the development machines, which have no Docker engine): the same broker
 * configuration in the apache/kafka image, TLS material and credentials prepared on the host by broker.sh.
 */
async function useCompose(infra: Infra, log: (line: string) => void): Promise<void> {
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');
  const home = infra.backboneHome();
  await infra.brokerCommand(['prepare'], { home, log });
  const compose = await new DockerComposeEnvironment(join(infra.repoRoot(), 'infra'), 'compose.yaml')
    .withEnvironment({ BACKBONE_HOME: home })
    .withWaitStrategy('kafka-1', Wait.forLogMessage('Kafka Server started', 1))
    .up(['kafka']);
  void compose; // not stopped here: the testcontainers reaper removes the container when jest exits
  const info = infra.connectionInfo({ home });
  await infra.bootstrapAccess(undefined, { home, log });
  exportBroker(info.brokers, info.caFile, home);
  log(`broker in Docker at ${info.brokers.join(',')}`);
}
