// `npm run bench [-- --quick]`: every figure against a ceiling measured in the same run, on the
// same broker; writes bench/results/latest.json and latest.md and prints the table.
import { join } from 'node:path';
import { ensureDatabase } from '@backbone/persistence';
import { bootstrapAccess, ensureBroker, kafkaConnection, repoRoot } from '@backbone/infra';
import { createBenchContext, type BenchContext } from './bench.context.js';
import { benchCeilings, type Ceilings } from './ceilings.bench.js';
import { alertRecordSize, benchCodec } from './codec.bench.js';
import { notMeasured, renderMarkdown, writeResults, type Figures } from './figures.js';
import { benchPolicy } from './policy.bench.js';
import { benchServices } from './services.bench.js';
import { benchStack } from './stack.bench.js';
import { STAGES } from './stage.breakdown.js';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const root = repoRoot();
  const started = Date.now();
  const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);

  const broker = await ensureBroker({ log });
  await bootstrapAccess(undefined, { log });
  const db = await ensureDatabase();
  const ctx = createBenchContext({
    quick,
    repoRoot: root,
    connection: kafkaConnection('admin'),
    caFile: broker.caFile,
    kafkaLibs: join(root, 'infra', 'kafka', '.cache', 'libs'),
    databaseUrl: db.url,
  });
  log(`run ${ctx.runId} (${quick ? 'quick' : 'full'}) on ${broker.brokers.join(',')}`);

  const figures: Figures = {};
  const failures: string[] = [];
  // `--only a,b` runs just those sections (a targeted measurement; the other figures show as not measured).
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt > 0 ? new Set((process.argv[onlyAt + 1] ?? '').split(',')) : null;
  const section = async (name: string, fn: () => Promise<Figures> | Figures): Promise<void> => {
    if (only && !only.has(name)) return;
    const t0 = Date.now();
    try {
      Object.assign(figures, await fn());
      log(`${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
      log(`${name}: FAILED ${(err as Error).stack ?? String(err)}`);
    }
  };

  const size = alertRecordSize();
  let ceilings: Ceilings | null = null;
  await section('ceilings', async () => {
    const r = await benchCeilings(ctx, size);
    ceilings = r.ceilings;
    return r.figures;
  });
  await section('codec', () => benchCodec(quick));
  await section('policy', () => benchPolicy(root, quick));
  await section('services', () => benchServices(ctx, ceilings));
  // The audit logger's step of `services` alone (`--only audit`): ingest, verify, export and their PostgreSQL ceilings.
  if (only?.has('audit') && !only.has('services')) await section('audit', () => benchServices(ctx, ceilings, 'audit'));
  // Last: the whole npm start stack, its start-up time and its idle cost (--no-stack skips it).
  if (!process.argv.includes('--no-stack')) await section('stack', () => benchStack(ctx, quick ? 20 : 60));
  await ctx.deleteRunTopics().catch((err: unknown) => log(`could not delete bench topics: ${(err as Error).message}`));

  for (const name of EXPECTED) {
    if (!(name in figures) && !name.endsWith('*')) figures[name] = notMeasured('', 'not measured in this run (see the log above)');
  }
  const written = writeResults(join(root, 'bench', 'results'), quick ? 'quick' : 'full', figures);
  process.stdout.write(renderMarkdown(quick ? 'quick' : 'full', figures));
  process.stdout.write(`\nwrote ${written.json} and ${written.md} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  await db.stop();
  if (failures.length > 0) {
    process.stderr.write(`\n${failures.length} section(s) failed:\n  ${failures.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}

/** The figure names runs are compared by (issue: benchmark suite). */
const EXPECTED = [
  'ceiling.kafkajs.produce_per_s',
  'ceiling.kafkajs.consume_per_s',
  'ceiling.java.produce_per_s',
  'codec.avro.encode_per_s',
  'codec.avro.decode_per_s',
  'codec.json.encode_per_s',
  'codec.json.decode_per_s',
  'policy.engine.alert196_median_us',
  'policy.engine.alert2000_median_us',
  'policy.engine.alert196_p99_us',
  'policy.cedar.pair_median_us',
  'gate.deliveries_per_s',
  'publisher.accepted_per_s',
  'publisher.p50_ms',
  'publisher.p99_ms',
  'e2e.p50_ms',
  'e2e.p95_ms',
  'e2e.p99_ms',
  'e2e.at100.p50_ms',
  'e2e.at100.p99_ms',
  ...STAGES.flatMap((s) => [`e2e.stage.${s}.p50_ms`, `e2e.stage.${s}.p99_ms`]),
  'e2e.sustained_alerts_per_s',
  'gate.alerts_per_s',
  'audit.ingest_per_s',
  'audit.verify_rows_per_s',
  'audit.export_rows_per_s',
  'ceiling.kafkajs.roundtrip_p99_ms',
  'ceiling.pg.insert_rows_per_s',
  'ceiling.pg.scan_rows_per_s',
  'ceiling.pg.copy_rows_per_s',
  'ceiling.pg.stream_rows_per_s',
  'ceiling.node.idle_rss_mb',
  'floor.node.frameworks_rss_mb',
  'rss.notice-publisher_mb',
  'rss.policy-gate_mb',
  'rss.agency-subscriber_mb',
  'rss.audit-logger_mb',
  'start.ready_s',
  'idle.cpu_percent',
];

export type { BenchContext };

// Exit explicitly: a client a failed section could not close must never keep the run (or CI) alive.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
