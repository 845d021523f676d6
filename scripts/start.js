#!/usr/bin/env node
// `npm start`: the whole backbone on this machine. Installs and builds if needed, starts the
// Kafka broker and finds PostgreSQL, then runs every service under its own Kafka principal —
// publisher, policy gate, audit logger and one subscriber per demo agency — issues demo
// credentials into .backbone/credentials/ and publishes the example alerts.
// `npm start -- --agencies FR-NCB,DE-NCB` runs subscribers for those agencies only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfStale, installIfNeeded, root } from './prepare.js';

if (!installIfNeeded() || !buildIfStale()) process.exit(1);

const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
const infra = await dist('libs/infra/src/index.js');
const auth = await dist('libs/auth/src/index.js');
const persistence = await dist('libs/persistence/src/index.js');
const say = (line) => process.stdout.write(`${line}\n`);

const cli = (args, extraEnv = {}) => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'backbone.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...extraEnv },
  });
  if (r.status !== 0) throw new Error(`backbone ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
};

say('▶ local stack');
process.stdout.write(cli(['infra', 'up']));
const db = await persistence.ensureDatabase();
// The audit ledger is provisioned here, with owner rights; the audit logger gets only its own
// append-only role's URL (it cannot migrate, and refuses a database that was not migrated).
const auditDatabaseUrl = cli(['audit', 'migrate', '--print-app-url'], { DATABASE_URL: db.url }).trim();
const info = infra.connectionInfo();
const credentials = infra.readCredentials().principals;
const flagAt = process.argv.indexOf('--agencies');
const agencyArg =
  process.argv.find((a) => a.startsWith('--agencies='))?.split('=')[1] ?? (flagAt > 0 ? process.argv[flagAt + 1] : undefined);
const agencies = agencyArg
  ? agencyArg
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean)
  : infra.readAgencyCodes(join(root, 'policies', 'registry.yaml'));
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
function service(name, app, port, env, entry = 'main.bundle.js') {
  const logFile = join(home, 'logs', `${name}.log`);
  const child = spawn('bash', ['-c', `exec node "${join(root, 'dist', 'apps', app, 'src', entry)}" >>"${logFile}" 2>&1`], {
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

const cliAsync = (args) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'backbone.js'), ...args], {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`backbone ${args.join(' ')} failed:\n${err}`))));
  });

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
  // BACKBONE_PORT_BASE moves every port (the bench starts a second stack beside a running one).
  const base = Number(process.env.BACKBONE_PORT_BASE || 8080);
  // The gate and the audit logger verify office tokens by asking the publisher (ADR 0007), each
  // with its own service credential, new at every start: the publisher gets only their hashes.
  const introspection = { 'policy-gate': auth.issueToken(), 'audit-logger': auth.issueToken() };
  const publisher = service('notice-publisher', 'notice-publisher', base, {
    ...kafkaEnv('notice-publisher'),
    INTROSPECTION_CLIENTS: Object.entries(introspection)
      .map(([name, t]) => `${name}=${t.hash}`)
      .join(','),
  });
  const asksPublisher = (name) => ({ OFFICE_INTROSPECTION_URL: publisher, OFFICE_INTROSPECTION_TOKEN: introspection[name].token });
  const gate = service('policy-gate', 'policy-gate', base + 1, {
    ...kafkaEnv('policy-gate'),
    ...asksPublisher('policy-gate'),
    GATE_INSTANCE_ID: '1',
  });
  const audit = service('audit-logger', 'audit-logger', base + 2, {
    ...kafkaEnv('audit-logger'),
    ...asksPublisher('audit-logger'),
    DATABASE_URL: auditDatabaseUrl,
    AUDIT_SIGNING_KEY_FILE: join(home, 'audit', 'signing-key.pem'),
    EVENT_PUBLIC_KEYS_FILE: infra.eventPublicKeysFile(),
  });
  // Every agency's subscriber in ONE process (ADR 0005): each keeps its own principal, consumer
  // group, schema and port, but start-up and idle cost no longer grow by a Node runtime per agency.
  const hostFile = join(home, 'run', 'subscribers.json');
  mkdirSync(join(home, 'run'), { recursive: true, mode: 0o700 });
  const hosted = agencies.map((agency, i) => ({
    agency,
    port: base + 20 + i,
    kafkaUsername: `subscriber-${agency}`,
    kafkaPassword: kafkaEnv(`subscriber-${agency}`).KAFKA_SASL_PASSWORD,
    eventSigningKeyFile: infra.eventKeyFile(`subscriber-${agency}`),
  }));
  writeFileSync(hostFile, JSON.stringify(hosted, null, 2) + '\n', { mode: 0o600 });
  const waitFor = [...children];
  service(
    'subscribers',
    'agency-subscriber',
    base + 20,
    { KAFKA_BROKERS: info.brokers.join(','), KAFKA_CA_FILE: info.caFile, SUBSCRIBER_HOST_FILE: hostFile },
    'host.main.bundle.js',
  );
  const subscribers = hosted.map((h) => [h.agency, `http://127.0.0.1:${h.port}`]);
  waitFor.push(...subscribers.map(([agency, url]) => ({ name: `subscriber-${agency}`, url })));
  // The web console in front of them all (apps/console): one origin for the browser.
  const consoleUrl = service('console', 'console', base + 10, {
    CONSOLE_PUBLISHER_URL: publisher,
    CONSOLE_GATE_URL: gate,
    CONSOLE_AUDIT_URL: audit,
    CONSOLE_SUBSCRIBERS: subscribers.map(([a, u]) => `${a}=${u}`).join(','),
  });
  waitFor.push({ name: 'console', url: consoleUrl });
  // Waited for together, so one slow service does not hide the others' progress.
  await Promise.all(waitFor.map((c) => waitReady(c.name, c.url, 300_000)));

  say('▶ demo credentials');
  // One CLI process for all agencies (a Node start-up per agency and command was most of npm start).
  cli(['credentials', 'issue', ...agencies, '--save'], { DATABASE_URL: db.url });
  cli(['desks', 'add', '--agency', subscribers.map(([agency]) => agency).join(','), '--name', 'all', '--save'], { DATABASE_URL: db.url });
  const complianceToken = cli(['audit', 'users', 'issue', `demo-compliance-${Date.now()}`], { DATABASE_URL: db.url }).trim();
  mkdirSync(join(home, 'credentials'), { recursive: true });
  writeFileSync(join(home, 'credentials', 'compliance.token'), complianceToken + '\n', { mode: 0o600 });

  say('▶ demo alerts');
  const examples = join(root, 'examples', 'alerts');
  const files = existsSync(examples)
    ? readdirSync(examples)
        .filter((f) => /\.(ya?ml|json)$/.test(f))
        .sort()
    : [];
  // Published concurrently (each is its own CLI process); reported in file order.
  const published = await Promise.all(
    files.map((file, i) => {
      const sender = agencies[i % agencies.length];
      return cliAsync(['publish', join(examples, file), '--as', sender, '--url', publisher]).then(
        () => `  ${file} published as ${sender}`,
        (err) => `  ${file} as ${sender}: ${err.message.split('\n').slice(0, 3).join(' ')}`,
      );
    }),
  );
  for (const line of published) say(line);

  // Demo sign-ins for the console: one per role, from the credentials just issued.
  const readJson = (file) => JSON.parse(readFileSync(join(home, 'credentials', file), 'utf8'));
  const offices = readJson('offices.json');
  const desks = readJson('desks.json');
  const office = Object.keys(offices).sort()[0];
  const deskAgency = subscribers[0]?.[0];
  const deskToken = deskAgency ? Object.values(desks[deskAgency] ?? {})[0] : undefined;

  say(`
Backbone is running.
  console            ${consoleUrl}   ← open in a browser
  notice-publisher   ${publisher}   (OpenAPI: ${publisher}/openapi.json)
  policy-gate        ${gate}
  audit-logger       ${audit}
  subscribers        ${subscribers.map(([a, u]) => `${a} ${u}`).join('\n                     ')}
  logs               ${join(home, 'logs')}
  demo credentials   ${join(home, 'credentials')} (offices.json, desks.json, compliance.token)

Console demo sign-ins (tokens stay in the browser tab; sign out to drop them):
  liaison office     ${office}: ${offices[office] ?? '(none issued)'}
  regional desk      ${deskAgency ?? '—'}, desk "all": ${deskToken ?? '(none issued)'}
  compliance         ${complianceToken}

Try:  npx backbone publish examples/alerts/<file> --as FR-NCB
      npx backbone feed tail --agency ${subscribers[0]?.[0] ?? 'FR-NCB'} --desk all --url ${subscribers[0]?.[1] ?? ''}
      BACKBONE_AUDIT_TOKEN=$(cat ${join(home, 'credentials', 'compliance.token')}) npx backbone audit trail <alertId>
Ctrl-C stops the services.`);
} catch (err) {
  say(`start failed: ${err.message}`);
  stopAll();
  process.exit(1);
}
