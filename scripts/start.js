#!/usr/bin/env node
// `npm start`: the whole backbone on this machine. Installs and builds if needed, starts the
// Kafka broker and finds PostgreSQL, then runs every service under its own Kafka principal —
// publisher, policy gate, audit logger and one subscriber per demo agency — issues demo
// credentials into .backbone/credentials/ and publishes the example alerts.
// `npm start -- --agencies FR-NCB,DE-NCB` runs subscribers for those agencies only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfStale, installIfNeeded, root } from './prepare.js';

if (!installIfNeeded() || !buildIfStale()) process.exit(1);

const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
const infra = await dist('libs/infra/src/index.js');
const persistence = await dist('libs/persistence/src/index.js');
const say = (line) => process.stdout.write(`${line}\n`);

const cli = (args, extraEnv = {}) => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'backbone.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...extraEnv } });
  if (r.status !== 0) throw new Error(`backbone ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
};

say('▶ local stack');
process.stdout.write(cli(['infra', 'up']));
const db = await persistence.ensureDatabase();
const info = infra.connectionInfo();
const credentials = infra.readCredentials().principals;
const flagAt = process.argv.indexOf('--agencies');
const agencyArg = process.argv.find((a) => a.startsWith('--agencies='))?.split('=')[1] ?? (flagAt > 0 ? process.argv[flagAt + 1] : undefined);
const agencies = agencyArg ? agencyArg.split(',').map((a) => a.trim()).filter(Boolean) : infra.readAgencyCodes(join(root, 'policies', 'registry.yaml'));
const home = infra.backboneHome();
mkdirSync(join(home, 'audit'), { recursive: true });
mkdirSync(join(home, 'logs'), { recursive: true });

const kafkaEnv = (principal) => {
  const password = credentials[principal];
  if (!password) throw new Error(`no Kafka credentials for ${principal}; run: npx backbone infra up`);
  // Each service signs its audit events with its own principal's event key (provisioned by infra up).
  return {
    KAFKA_BROKERS: info.brokers.join(','),
    KAFKA_CA_FILE: info.caFile,
    KAFKA_SASL_USERNAME: principal,
    KAFKA_SASL_PASSWORD: password,
    EVENT_SIGNING_KEY_FILE: infra.eventKeyFile(principal),
  };
};

const children = [];
function service(name, app, port, env) {
  const logFile = join(home, 'logs', `${name}.log`);
  const child = spawn('bash', ['-c', `exec node "${join(root, 'dist', 'apps', app, 'src', 'main.js')}" >>"${logFile}" 2>&1`], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: db.url, POLICIES_DIR: join(root, 'policies'), PORT: String(port), ...env },
    stdio: 'ignore',
  });
  child.on('exit', (code, signal) => {
    if (!stopping) say(`✖ ${name} exited (${signal ?? code}); see ${logFile}`);
  });
  children.push({ name, child, url: `http://127.0.0.1:${port}`, logFile });
  return `http://127.0.0.1:${port}`;
}

async function waitReady(name, url, deadlineMs = 90_000) {
  const until = Date.now() + deadlineMs;
  let last = '';
  while (Date.now() < until) {
    try {
      const r = await fetch(`${url}/health/ready`);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} not ready at ${url} within ${deadlineMs / 1000} s (${last})`);
}

let stopping = false;
function stopAll() {
  stopping = true;
  for (const { child } of children) child.kill('SIGTERM');
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    say('\nstopping services (the broker keeps running: npx backbone infra down)');
    stopAll();
    setTimeout(() => process.exit(0), 3000).unref();
  });
}

try {
  say('▶ services');
  const publisher = service('notice-publisher', 'notice-publisher', 8080, kafkaEnv('notice-publisher'));
  const gate = service('policy-gate', 'policy-gate', 8081, { ...kafkaEnv('policy-gate'), GATE_INSTANCE_ID: '1' });
  const audit = service('audit-logger', 'audit-logger', 8082, { ...kafkaEnv('audit-logger'), AUDIT_SIGNING_KEY_FILE: join(home, 'audit', 'signing-key.pem'), EVENT_PUBLIC_KEYS_FILE: infra.eventPublicKeysFile() });
  const subscribers = agencies.map((agency, i) => [agency, service(`subscriber-${agency}`, 'agency-subscriber', 8100 + i, { ...kafkaEnv(`subscriber-${agency}`), AGENCY_CODE: agency })]);
  for (const c of children) await waitReady(c.name, c.url);

  say('▶ demo credentials');
  for (const agency of agencies) cli(['credentials', 'issue', agency, '--save'], { DATABASE_URL: db.url });
  for (const [agency] of subscribers) cli(['desks', 'add', '--agency', agency, '--name', 'all', '--save'], { DATABASE_URL: db.url });
  const complianceToken = cli(['audit', 'users', 'issue', `demo-compliance-${Date.now()}`], { DATABASE_URL: db.url }).trim();
  mkdirSync(join(home, 'credentials'), { recursive: true });
  writeFileSync(join(home, 'credentials', 'compliance.token'), complianceToken + '\n', { mode: 0o600 });

  say('▶ demo alerts');
  const examples = join(root, 'examples', 'alerts');
  const files = existsSync(examples) ? readdirSync(examples).filter((f) => /\.(ya?ml|json)$/.test(f)).sort() : [];
  files.forEach((file, i) => {
    const sender = agencies[i % agencies.length];
    try {
      cli(['publish', join(examples, file), '--as', sender, '--url', publisher]);
      say(`  ${file} published as ${sender}`);
    } catch (err) {
      say(`  ${file} as ${sender}: ${err.message.split('\n').slice(0, 3).join(' ')}`);
    }
  });

  say(`
Backbone is running.
  notice-publisher   ${publisher}   (OpenAPI: ${publisher}/openapi.json)
  policy-gate        ${gate}
  audit-logger       ${audit}
  subscribers        ${subscribers.map(([a, u]) => `${a} ${u}`).join('\n                     ')}
  logs               ${join(home, 'logs')}
  demo credentials   ${join(home, 'credentials')} (offices.json, desks.json, compliance.token)

Try:  npx backbone publish examples/alerts/<file> --as FR-NCB
      npx backbone feed tail --agency ${subscribers[0]?.[0] ?? 'FR-NCB'} --desk all --url ${subscribers[0]?.[1] ?? ''}
      BACKBONE_AUDIT_TOKEN=$(cat ${join(home, 'credentials', 'compliance.token')}) npx backbone audit trail <alertId>
Ctrl-C stops the services.`);
} catch (err) {
  say(`start failed: ${err.message}`);
  stopAll();
  process.exit(1);
}
