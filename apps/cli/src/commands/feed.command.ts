// Desk commands: follow an agency's live feed (`feed tail`) and manage the agency's desks
// (`desks add|list|remove`, a management command that talks to the agency's database directly).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { backboneHome, ensureDatabase } from '@backbone/persistence';
import { openSubscriberDatabase, type DeskFilterInput, DeskStore } from '@backbone/inbox-store';

type DeskTokens = Record<string, Record<string, string>>;

/** `.backbone/credentials/desks.json`: {"<AGENCY>": {"<desk>": "<token>"}} — demo tokens, git-ignored, mode 600. */
export function desksFile(): string {
  return join(backboneHome(), 'credentials', 'desks.json');
}

function readDeskTokens(): DeskTokens {
  const file = desksFile();
  if (!existsSync(file)) return {};
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${file} must be a JSON object {"<AGENCY>": {"<desk>": "<token>"}}`);
  return parsed as DeskTokens;
}

function writeDeskTokens(tokens: DeskTokens): void {
  const file = desksFile();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function deskToken(agency: string, desk: string | undefined, explicit: string | undefined): string {
  const token = explicit ?? process.env['BACKBONE_DESK_TOKEN'];
  if (token) return token;
  const saved = readDeskTokens()[agency] ?? {};
  if (desk) {
    const t = saved[desk];
    if (!t)
      throw new Error(
        `no saved token for desk ${desk} of ${agency}: pass --token, set BACKBONE_DESK_TOKEN or run \`backbone desks add --agency ${agency} --name ${desk} --save\``,
      );
    return t;
  }
  const names = Object.keys(saved);
  if (names.length === 1) return saved[names[0]!]!;
  throw new Error(
    names.length === 0
      ? `no saved desk token for ${agency}: pass --desk and --token, or \`backbone desks add ... --save\``
      : `several desks saved for ${agency} (${names.join(', ')}): pass --desk`,
  );
}

const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

async function withDesks<T>(agency: string, work: (desks: DeskStore) => Promise<T>): Promise<T> {
  const url = process.env['DATABASE_URL'] ?? (await ensureDatabase()).url;
  const db = await openSubscriberDatabase(url, agency, 2);
  try {
    return await work(new DeskStore(db));
  } finally {
    await db.destroy();
  }
}

interface FeedData {
  alertId: string;
  version: number;
  msgType: string;
  state: string;
  noticeType: string;
  senderRegion: string;
  urgency: string;
  severity: string;
  tlp: string;
  headline: string | null;
  executionFlags: string[];
  noReshare: boolean;
  recall: boolean;
  replay: boolean;
}

function describeEvent(id: string, event: string, data: FeedData): string {
  const marks = [
    ...data.executionFlags,
    ...(data.noReshare ? ['NO_RESHARE'] : []),
    ...(data.recall ? ['RECALL'] : []),
    ...(data.replay ? ['REPLAY'] : []),
    ...(data.state !== 'ACTIVE' ? [data.state] : []),
  ];
  return [
    `#${id}`,
    event.toUpperCase().padEnd(6),
    `${data.alertId} v${data.version}`,
    `${data.noticeType}/${data.senderRegion}`,
    `${data.urgency}/${data.severity}`,
    `TLP:${data.tlp}`,
    data.headline ?? '(content removed)',
    marks.length ? `[${marks.join(', ')}]` : '',
  ]
    .filter(Boolean)
    .join('  ');
}

/**
 * Reads the SSE stream until it ends, calling onEvent per complete event. Returns the last id seen,
 * so the caller can reconnect with Last-Event-ID and miss nothing.
 */
async function followOnce(
  url: string,
  token: string,
  lastId: string | undefined,
  signal: AbortSignal,
  onEvent: (id: string, event: string, data: string) => void,
): Promise<string | undefined> {
  const res = await fetch(`${url}/stream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
    signal,
  });
  if (res.status === 401 || res.status === 403) throw new Error(`${res.status}: the desk token was refused by ${url}`);
  if (!res.ok || !res.body) throw new Error(`${res.status} from ${url}/stream`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let last = lastId;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return last;
    buffer += decoder.decode(value, { stream: true });
    for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      let id: string | undefined;
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('id:')) id = line.slice(3).trim();
        else if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (id !== undefined && data.length > 0) {
        last = id;
        onEvent(id, event, data.join('\n'));
      }
    }
  }
}

export function registerFeedCommands(program: Command): void {
  const feed = program.command('feed').description("A desk's live feed of its agency's inbox");
  feed
    .command('tail')
    .description('Print the live feed (Server-Sent Events); reconnects with Last-Event-ID, nothing missed or repeated')
    .requiredOption('--agency <code>', 'agency whose inbox to follow, e.g. FR-NCB')
    .option('--desk <name>', 'desk whose saved token to use (.backbone/credentials/desks.json)')
    .option('--token <token>', 'desk bearer token (else BACKBONE_DESK_TOKEN, else the saved one)')
    .option('--url <url>', "the agency subscriber's URL (else SUBSCRIBER_URL, else http://127.0.0.1:8100)")
    .option('--from <id>', 'resume after this event id (Last-Event-ID)')
    .option('--json', 'print each event as one JSON line')
    .action(async (opts: { agency: string; desk?: string; token?: string; url?: string; from?: string; json?: boolean }) => {
      const token = deskToken(opts.agency, opts.desk, opts.token);
      const url = (opts.url ?? process.env['SUBSCRIBER_URL'] ?? 'http://127.0.0.1:8100').replace(/\/$/, '');
      const ctrl = new AbortController();
      process.once('SIGINT', () => ctrl.abort());
      let lastId = opts.from;
      let delay = 500;
      while (!ctrl.signal.aborted) {
        try {
          lastId = await followOnce(url, token, lastId, ctrl.signal, (id, event, data) => {
            delay = 500;
            if (opts.json) console.log(JSON.stringify({ id: Number(id), event, data: JSON.parse(data) as unknown }));
            else console.log(describeEvent(id, event, JSON.parse(data) as FeedData));
          });
          if (!ctrl.signal.aborted) console.error(`stream ended; reconnecting after #${lastId ?? 0}`);
        } catch (err) {
          if (ctrl.signal.aborted) break;
          if (/refused/.test((err as Error).message)) throw err;
          console.error(`stream interrupted (${(err as Error).message}); reconnecting after #${lastId ?? 0}`);
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    });

  const desks = program
    .command('desks')
    .description("An agency's desks (writes the agency subscriber's database: DATABASE_URL, else the local/embedded one)");
  desks
    .command('add')
    .description("Create a desk with its filter; prints the desk's bearer token once")
    .requiredOption('--agency <code>', 'agency the desk belongs to (a comma-separated list creates the same desk for each)')
    .requiredOption('--name <name>', 'desk name, e.g. europe-red')
    .option(
      '--regions <list>',
      'sender regions, comma-separated (AFRICA, AMERICAS, ASIA_SOUTH_PACIFIC, EUROPE, MIDDLE_EAST_NORTH_AFRICA)',
      list,
    )
    .option('--notice-types <list>', 'notice types, comma-separated (RED, YELLOW, ...)', list)
    .option('--urgencies <list>', 'urgencies, comma-separated', list)
    .option('--min-urgency <level>', 'this urgency or more urgent (Immediate > Expected > Future > Past > Unknown)')
    .option('--severities <list>', 'severities, comma-separated', list)
    .option('--min-severity <level>', 'this severity or more severe (Extreme > Severe > Moderate > Minor > Unknown)')
    .option('--tlp <list>', 'TLP labels, comma-separated (CLEAR, GREEN, AMBER, AMBER_STRICT, RED)', list)
    .option('--save', 'also store the token in .backbone/credentials/desks.json (mode 600)')
    .action(
      async (opts: {
        agency: string;
        name: string;
        regions?: string[];
        noticeTypes?: string[];
        urgencies?: string[];
        minUrgency?: string;
        severities?: string[];
        minSeverity?: string;
        tlp?: string[];
        save?: boolean;
      }) => {
        const filter: DeskFilterInput = {
          ...(opts.regions ? { regions: opts.regions } : {}),
          ...(opts.noticeTypes ? { noticeTypes: opts.noticeTypes } : {}),
          ...(opts.urgencies ? { urgencies: opts.urgencies } : {}),
          ...(opts.minUrgency ? { minUrgency: opts.minUrgency } : {}),
          ...(opts.severities ? { severities: opts.severities } : {}),
          ...(opts.minSeverity ? { minSeverity: opts.minSeverity } : {}),
          ...(opts.tlp ? { tlps: opts.tlp } : {}),
        };
        for (const agency of list(opts.agency)) {
          const created = await withDesks(agency, (store) => store.create(opts.name, filter));
          console.log(`desk ${created.desk.name} of ${agency} created (${created.desk.deskId})`);
          console.log(`filter: ${JSON.stringify(created.desk.filter)}`);
          console.log(`token (shown once): ${created.token}`);
          if (opts.save) {
            const tokens = readDeskTokens();
            tokens[agency] = { ...(tokens[agency] ?? {}), [opts.name]: created.token };
            writeDeskTokens(tokens);
            console.log(`saved to ${desksFile()}`);
          }
        }
      },
    );
  desks
    .command('list')
    .description("List an agency's desks and their filters (never tokens)")
    .requiredOption('--agency <code>', 'agency')
    .option('--json', 'print JSON')
    .action(async (opts: { agency: string; json?: boolean }) => {
      const all = await withDesks(opts.agency, (store) => store.list());
      if (opts.json) {
        console.log(JSON.stringify(all, null, 2));
        return;
      }
      if (all.length === 0) console.log(`no desks for ${opts.agency}`);
      for (const d of all) console.log(`${d.name}  ${d.tokenId}  ${JSON.stringify(d.filter)}  created ${d.createdAt.toISOString()}`);
    });
  desks
    .command('remove')
    .description('Remove a desk: its token stops working at once')
    .requiredOption('--agency <code>', 'agency')
    .requiredOption('--name <name>', 'desk name')
    .action(async (opts: { agency: string; name: string }) => {
      const removed = await withDesks(opts.agency, (store) => store.remove(opts.name));
      const tokens = readDeskTokens();
      if (tokens[opts.agency]?.[opts.name]) {
        delete tokens[opts.agency]![opts.name];
        writeDeskTokens(tokens);
      }
      if (!removed) {
        console.error(`no desk ${opts.name} for ${opts.agency}`);
        process.exitCode = 1;
        return;
      }
      console.log(`desk ${opts.name} of ${opts.agency} removed`);
    });
}
