// Compliance commands over the audit ledger. Queries go through the audit logger's API (so they are
// themselves audited) with a compliance bearer token; `users issue` and a token-less `verify`
// work on the database directly, as the operator who owns it.
import { createWriteStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import pg from 'pg';
import { resolveDatabase } from '@backbone/persistence';
import { loadPolicy } from '@backbone/policy';
import {
  appRolePassword,
  cliCandidate,
  DEFAULT_APP_ROLE,
  LEDGER_SCHEMA_VERSION,
  provisionLedger,
  defaultSigningKeyFile,
  issueComplianceUser,
  loadSigningKey,
  migrateLedger,
  verifyLedger,
  whatIf,
  type VerifyReport,
  type WhatIfResult,
} from '@backbone/ledger';

interface ApiOptions {
  url: string;
  token?: string;
}

const DEFAULT_URL = process.env['BACKBONE_AUDIT_URL'] ?? 'http://127.0.0.1:8082';

function withApi(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'audit logger base URL (BACKBONE_AUDIT_URL)', DEFAULT_URL)
    .option('--token <token>', 'compliance bearer token (BACKBONE_AUDIT_TOKEN)', process.env['BACKBONE_AUDIT_TOKEN']);
}

function requireToken(opts: ApiOptions): string {
  if (!opts.token)
    throw new Error('a compliance token is required: --token or BACKBONE_AUDIT_TOKEN (issue one with `backbone audit users issue NAME`)');
  return opts.token;
}

async function api(opts: ApiOptions, path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  const res = await fetch(new URL(path, opts.url), {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${requireToken(opts)}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  if (!res.ok) {
    const text = await res.text();
    let detail = text;
    try {
      const p = JSON.parse(text) as { title?: string; detail?: string };
      detail = p.detail ?? p.title ?? text;
    } catch {
      // not problem+json: show the text as is
    }
    throw new Error(`${res.status} ${path}: ${detail}`);
  }
  return res;
}

function isoTime(name: string, raw: string): string {
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new Error(`--${name} must be an ISO 8601 time, got ${raw}`);
  return d.toISOString();
}

function printVerify(r: VerifyReport): void {
  if (r.ok) {
    process.stdout.write(
      `ledger OK: ${r.rows} rows, head ${r.headSeq} ${r.headHash ?? '(empty)'}; ${r.checkpointsVerified}/${r.checkpoints} checkpoints verified; ${r.unsignedTail} rows after the last checkpoint (${r.durationMs} ms)\n`,
    );
    if (r.parked > 0 || r.undecodable > 0) {
      process.stdout.write(`  set aside by the ingest: ${r.parked} parked, ${r.undecodable} undecodable (backbone audit parked)\n`);
    }
  } else if (!r.firstBreak) {
    process.stdout.write(`ledger NOT VERIFIED against its anchors: ${r.anchorProblem ?? 'unknown reason'}\n  ${r.rows} rows chained\n`);
    process.exitCode = 2;
  } else {
    process.stdout.write(
      `ledger BROKEN at row ${r.firstBreak!.seq} (${r.firstBreak!.kind}): ${r.firstBreak!.message}\n  ${r.rows} rows verified before it, ${r.checkpointsVerified} checkpoints\n`,
    );
    process.exitCode = 2;
  }
}

async function ownerPool(): Promise<{ pool: pg.Pool; stop: () => Promise<void> }> {
  const database = await resolveDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  return { pool, stop: async () => void (await pool.end(), await database.stop()) };
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('Compliance: verify the tamper-evident ledger, trails, exports, replay');

  withApi(audit.command('verify'))
    .option(
      '--key-file <path>',
      'signing key whose public half checks the checkpoints (without --token)',
      process.env['AUDIT_SIGNING_KEY_FILE'] ?? defaultSigningKeyFile(),
    )
    .option('--json', 'print the report as JSON', false)
    .description('Walk the hash chain and the signed checkpoints; report the first broken row. Exit 2 when broken')
    .action(async (opts: ApiOptions & { keyFile: string; json: boolean }) => {
      let report: VerifyReport;
      if (opts.token) {
        report = (await (await api(opts, '/compliance/verify')).json()) as VerifyReport;
      } else {
        const key = loadSigningKey(opts.keyFile);
        const { pool, stop } = await ownerPool();
        try {
          report = await verifyLedger(pool, new Map([[key.keyId, key.publicKey]]));
        } finally {
          await stop();
        }
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        if (!report.ok) process.exitCode = 2;
      } else printVerify(report);
    });

  withApi(audit.command('trail'))
    .argument('<alertId>', 'the alert')
    .description('Who got an alert, when, under which rule and policy version, and what was withheld and why')
    .action(async (alertId: string, opts: ApiOptions) => {
      const trail = (await (await api(opts, `/compliance/alerts/${encodeURIComponent(alertId)}/trail`)).json()) as {
        recipients: {
          agency: string;
          alertVersion: number;
          outcome: string;
          ruleId: string;
          policyVersion: string;
          deliveredAt: string | null;
          acknowledgedAt: string | null;
          withheld: { what: string; why: string } | null;
        }[];
        events: unknown[];
      };
      process.stdout.write(`alert ${alertId}: ${trail.events.length} audit events\n`);
      for (const r of trail.recipients) {
        const withheld = r.withheld ? `; withheld ${r.withheld.what} (${r.withheld.why})` : '';
        const when = r.deliveredAt ? `delivered ${r.deliveredAt}` : 'not delivered';
        process.stdout.write(
          `  v${r.alertVersion} ${r.agency.padEnd(10)} ${r.outcome.padEnd(22)} rule ${r.ruleId} policy ${r.policyVersion}; ${when}${r.acknowledgedAt ? `, acknowledged ${r.acknowledgedAt}` : ''}${withheld}\n`,
        );
      }
    });

  withApi(audit.command('parked'))
    .option('--json', 'one JSON object per line', false)
    .description('Records the ingest set aside (parked because PostgreSQL refused them, or undecodable), with the original bytes')
    .action(async (opts: ApiOptions & { json: boolean }) => {
      let after = '0';
      for (;;) {
        const page = (await (await api(opts, `/compliance/parked?after=${after}&limit=1000`)).json()) as {
          items: {
            seq: string;
            topic: string;
            partition: number;
            offset: string;
            kind: string;
            parkReason: string | null;
            deadLetterId: string | null;
            detail: string | null;
          }[];
          next: string | null;
        };
        for (const i of page.items) {
          if (opts.json) process.stdout.write(`${JSON.stringify(i)}\n`);
          else
            process.stdout.write(
              `#${i.seq} ${i.kind.padEnd(11)} ${i.parkReason ?? ''} ${i.topic}@${i.partition}/${i.offset} ${i.deadLetterId ?? ''} ${i.detail ?? ''}\n`,
            );
        }
        if (!page.next) break;
        after = page.next;
      }
    });

  withApi(audit.command('export'))
    .requiredOption('--agency <code>', 'the agency, e.g. DE-NCB')
    .requiredOption('--since <time>', 'ISO 8601, inclusive')
    .requiredOption('--until <time>', 'ISO 8601, exclusive')
    .option('--format <format>', 'ndjson or csv', 'ndjson')
    .option('-o, --output <file>', 'write here instead of stdout')
    .description('Stream what an agency received and was refused in a range (progress bar on a TTY)')
    .action(async (opts: ApiOptions & { agency: string; since: string; until: string; format: string; output?: string }) => {
      if (opts.format !== 'ndjson' && opts.format !== 'csv') throw new Error('--format must be ndjson or csv');
      const q = new URLSearchParams({
        agency: opts.agency,
        since: isoTime('since', opts.since),
        until: isoTime('until', opts.until),
        format: opts.format,
      });
      const res = await api(opts, `/compliance/export?${q}`);
      const total = Number(res.headers.get('x-total-count') ?? 0);
      const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      const out = opts.output ? createWriteStream(opts.output) : process.stdout;
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { stream: process.stderr, format: 'export [{bar}] {value}/{total} rows' },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(total, 0);
      let rows = 0;
      body.on('data', (chunk: Buffer) => {
        for (const b of chunk) if (b === 0x0a) rows++;
        // CSV: the header line is not a row.
        bar?.update(Math.min(total, opts.format === 'csv' ? Math.max(0, rows - 1) : rows));
      });
      try {
        await pipeline(body, out, { end: out !== process.stdout });
      } finally {
        bar?.stop();
      }
    });

  withApi(audit.command('replay'))
    .requiredOption('--agency <code>', 'the agency whose feed receives the replay')
    .requiredOption('--since <time>', 'ISO 8601, inclusive (decision time)')
    .requiredOption('--until <time>', 'ISO 8601, exclusive')
    .description('Re-deliver, from the ledger, every alert the agency was allowed in a range, as decided then (replay: true)')
    .action(async (opts: ApiOptions & { agency: string; since: string; until: string }) => {
      const r = (await (
        await api(opts, '/compliance/replay', {
          method: 'POST',
          body: { agency: opts.agency, since: isoTime('since', opts.since), until: isoTime('until', opts.until) },
        })
      ).json()) as { replayed: number; topic: string; missingPayload: unknown[] };
      process.stdout.write(
        `replayed ${r.replayed} deliveries to ${r.topic}${r.missingPayload.length ? `; ${r.missingPayload.length} allowed decisions had no SUBMITTED payload in the ledger` : ''}\n`,
      );
    });

  audit
    .command('migrate')
    .description(
      'Provision the ledger with owner rights (DATABASE_URL): schema, grants, and the append-only role with its password (AUDIT_DB_APP_ROLE, AUDIT_DB_APP_PASSWORD or the generated one). The audit logger itself runs as that role and cannot migrate.',
    )
    .option('--print-app-url', "print the app role's database URL (its password included) for the audit logger's DATABASE_URL")
    .action(async (opts: { printAppUrl?: boolean }) => {
      const database = await resolveDatabase();
      try {
        const role = process.env['AUDIT_DB_APP_ROLE'] || DEFAULT_APP_ROLE;
        const appUrl = await provisionLedger(database.url, { appRole: role, appPassword: process.env['AUDIT_DB_APP_PASSWORD'] ?? null });
        if (opts.printAppUrl) process.stdout.write(`${appUrl}\n`);
        process.stderr.write(`audit ledger migrated to schema version ${LEDGER_SCHEMA_VERSION}; the audit logger logs in as ${role}\n`);
      } finally {
        await database.stop();
      }
    });

  const users = audit.command('users').description('Compliance users and their bearer tokens');
  users
    .command('issue')
    .argument('<name>', 'the user')
    .option('--role <role>', 'role: "compliance" reads the ledger; "compliance-replayer" also replays feeds', 'compliance')
    .description('Issue a bearer token (shown once; only its hash is stored)')
    .action(async (name: string, opts: { role: string }) => {
      const database = await resolveDatabase();
      try {
        await migrateLedger({ ownerUrl: database.url, appPassword: appRolePassword(process.env['AUDIT_DB_APP_PASSWORD']) });
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          const u = await issueComplianceUser(client, name, opts.role);
          process.stdout.write(`${u.token}\n`);
          process.stderr.write(`issued ${u.tokenId} to ${u.name} (role ${u.role}); store it now, it is not shown again\n`);
        } finally {
          await client.end();
        }
      } finally {
        await database.stop();
      }
    });
}

/** `backbone policy what-if`: attach to the policy command (owned elsewhere) with this. */
export function registerWhatIfCommand(policyCommand: Command): void {
  withApi(policyCommand.command('what-if'))
    .requiredOption('--policy <dirOrVersion>', 'candidate policy: a version under --policies, or a policies directory')
    .requiredOption('--since <time>', 'ISO 8601, inclusive')
    .requiredOption('--until <time>', 'ISO 8601, exclusive')
    .option('--policies <dir>', 'the policies directory (registry.yaml, rules/)', 'policies')
    .option('--json', 'print JSON', false)
    .description('Evaluate a candidate policy against past submitted alerts and list the deliveries that would change')
    .action(async (opts: ApiOptions & { policy: string; since: string; until: string; policies: string; json: boolean }) => {
      const since = isoTime('since', opts.since);
      const until = isoTime('until', opts.until);
      let result: WhatIfResult;
      if (opts.token) {
        // The server never reads a path from the network: a local directory is sent as its newest document.
        const candidate = cliCandidate(opts.policy);
        const named =
          'dir' in candidate ? { policyDocument: readFileSync(loadPolicy(candidate.dir).source, 'utf8') } : { policyVersion: opts.policy };
        result = (await (
          await api(opts, '/compliance/what-if', { method: 'POST', body: { ...named, since, until } })
        ).json()) as WhatIfResult;
      } else {
        const { pool, stop } = await ownerPool();
        try {
          result = await whatIf(pool, cliCandidate(opts.policy), opts.policies, new Date(since), new Date(until));
        } finally {
          await stop();
        }
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `candidate ${result.candidatePolicyVersion}: ${result.alertsEvaluated} alerts evaluated, ${result.changes.length} deliveries would change\n`,
      );
      for (const c of result.changes) {
        const old = c.old ? `${c.old.outcome} (${c.old.ruleId}, ${c.old.policyVersion ?? '?'})` : 'no decision';
        process.stdout.write(`  ${c.alertId} v${c.alertVersion} ${c.agency.padEnd(10)} ${old} -> ${c.new.outcome} (${c.new.ruleId})\n`);
      }
    });
}
