// Liaison-office commands: publish an alert file, check an alert's status, and (operators)
// issue or revoke an office's credential.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { backboneHome } from '@backbone/persistence';
import { issueOfficeCredential, revokeOfficeCredentials } from '@backbone/office-store';
import { defaultPoliciesDir } from '@backbone/workspace';

/** `.backbone/credentials/offices.json`: {"<AGENCY>": "<token>"} — demo tokens, git-ignored, mode 600. */
export function officesFile(): string {
  return join(backboneHome(), 'credentials', 'offices.json');
}

function readOffices(): Record<string, string> {
  const file = officesFile();
  if (!existsSync(file)) return {};
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${file} must be a JSON object {"<AGENCY>": "<token>"}`);
  return parsed as Record<string, string>;
}

function writeOffices(offices: Record<string, string>): void {
  const file = officesFile();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(offices, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function tokenFor(agency: string): string {
  const token = process.env['BACKBONE_OFFICE_TOKEN'] ?? readOffices()[agency];
  if (!token)
    throw new Error(`no credential for ${agency}: set BACKBONE_OFFICE_TOKEN or run \`backbone credentials issue ${agency} --save\``);
  return token;
}

function defaultUrl(): string {
  return process.env['PUBLISHER_URL'] ?? 'http://127.0.0.1:8080';
}

function readAlertFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  return ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
}

interface Problem {
  title?: string;
  status?: number;
  detail?: string;
  reason?: string;
  errors?: { field: string; code: string; message: string }[];
}

async function request(
  method: string,
  url: string,
  token: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<{ status: number; json: unknown; retryAfter: string | null }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (err) {
    throw new Error(`cannot reach notice-publisher at ${url}: ${(err as Error).message}`, { cause: err });
  }
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy error page): printed as text below.
  }
  return { status: res.status, json, retryAfter: res.headers.get('retry-after') };
}

/** Human-readable problem+json: title, detail, then one line per field error. */
function printProblem(status: number, body: unknown, retryAfter: string | null): void {
  const p = (typeof body === 'object' && body !== null ? body : { detail: String(body) }) as Problem;
  console.error(`${status} ${p.title ?? 'Error'}${p.reason ? ` (${p.reason})` : ''}`);
  if (p.detail) console.error(`  ${p.detail}`);
  for (const e of p.errors ?? []) console.error(`  - ${e.field}: ${e.message} [${e.code}]`);
  if (retryAfter) console.error(`  Retry after ${retryAfter} s (same --idempotency-key to avoid a duplicate).`);
  process.exitCode = 1;
}

function adminOptions(): { databaseUrl: string | null; policiesDir: string } {
  const databaseUrl = process.env['DATABASE_URL'] || null;
  return { databaseUrl, policiesDir: process.env['POLICIES_DIR'] || defaultPoliciesDir() };
}

export function registerPublisherCommands(program: Command): void {
  program
    .command('publish')
    .description('Publish an alert (JSON or YAML file) as a liaison office')
    .argument('<file>', 'alert file: the fields of POST /alerts (see examples/)')
    .requiredOption('--as <agency>', 'the publishing office, e.g. FR-NCB')
    .option('--url <url>', 'notice-publisher base URL', defaultUrl())
    .option('--idempotency-key <key>', 'retry-safe key: a retry with the same key never publishes twice')
    .action(async (file: string, opts: { as: string; url: string; idempotencyKey?: string }) => {
      const res = await request(
        'POST',
        `${opts.url.replace(/\/$/, '')}/alerts`,
        tokenFor(opts.as),
        readAlertFile(file),
        opts.idempotencyKey,
      );
      if (res.status !== 201) return printProblem(res.status, res.json, res.retryAfter);
      const r = res.json as { alertId: string; version: number; partition: number; offset: string };
      console.log(`published ${r.alertId} v${r.version} → alerts.submitted partition ${r.partition} offset ${r.offset}`);
    });

  const alerts = program.command('alerts').description("A liaison office's alerts");
  alerts
    .command('status')
    .description("Status of one of the office's alerts: state, versions, partitions and offsets")
    .argument('<id>', 'alertId')
    .requiredOption('--as <agency>', 'the office that published it')
    .option('--url <url>', 'notice-publisher base URL', defaultUrl())
    .option('--json', 'print the raw JSON')
    .action(async (id: string, opts: { as: string; url: string; json?: boolean }) => {
      const res = await request('GET', `${opts.url.replace(/\/$/, '')}/alerts/${encodeURIComponent(id)}`, tokenFor(opts.as));
      if (res.status !== 200) return printProblem(res.status, res.json, res.retryAfter);
      if (opts.json) return console.log(JSON.stringify(res.json, null, 2));
      const s = res.json as {
        alertId: string;
        sender: string;
        state: string;
        latestVersion: number;
        noticeType: string;
        headline: string;
        versions: { version: number; msgType: string; state: string; partition: number | null; offset: string | null; sent: string }[];
      };
      console.log(`${s.alertId} ${s.noticeType} "${s.headline}" from ${s.sender}: ${s.state}, latest version ${s.latestVersion}`);
      for (const v of s.versions)
        console.log(
          `  v${v.version} ${v.msgType.padEnd(6)} ${v.state.padEnd(9)} partition ${v.partition ?? '-'} offset ${v.offset ?? '-'} sent ${v.sent}`,
        );
    });

  const credentials = program.command('credentials').description('Office bearer credentials (talks to the database through DATABASE_URL)');
  credentials
    .command('issue')
    .description('Issue a new credential for an office; the token is printed once and only its hash is stored')
    .argument('<agencies...>', 'agency code(s) of the registry (several: one token each, one line each, in order)')
    .option('--save', `also write it to ${officesFile()} (demo use)`)
    .action(async (agencies: string[], opts: { save?: boolean }) => {
      // One after another in one process: npm start issues every demo agency's token in one call.
      for (const agency of agencies) {
        const { token, tokenId } = await issueOfficeCredential(adminOptions(), agency);
        if (opts.save) {
          writeOffices({ ...readOffices(), [agency]: token });
          console.error(`issued ${tokenId} for ${agency}; saved to ${officesFile()}`);
        } else {
          console.error(`issued ${tokenId} for ${agency}; it is shown only once:`);
        }
        console.log(token);
      }
    });
  credentials
    .command('revoke')
    .description('Revoke every active credential of an office (its requests get 401 at once)')
    .argument('<agency>', 'agency code')
    .action(async (agency: string) => {
      const n = await revokeOfficeCredentials(adminOptions(), agency);
      const offices = readOffices();
      if (offices[agency]) {
        delete offices[agency];
        writeOffices(offices);
      }
      console.log(`revoked ${n} credential(s) of ${agency}`);
    });
}
