// Operator commands for parked records: `parked list` shows what each consumer set aside on its
// dead-letter topic and why; `parked redrive` re-publishes chosen ones to their origin topic.
import type { Command } from 'commander';
import { kafkaConnection } from '@backbone/infra';
import { createKafka, parkedTopics, readParked, redriveParked, topicNames, type ParkedRecord } from '@backbone/kafka';

interface ParkedOptions {
  service?: string;
  reason?: string;
  json?: boolean;
}

function clientAndTopics(): { kafka: ReturnType<typeof createKafka>; topics: ReturnType<typeof topicNames> } {
  // The operator's principal (admin on the local broker): dead-letter topics are readable by no service.
  const kafka = createKafka(kafkaConnection(process.env['BACKBONE_KAFKA_PRINCIPAL'] ?? 'admin'), 'backbone-cli-parked');
  return { kafka, topics: topicNames(process.env['KAFKA_TOPIC_PREFIX'] ?? '') };
}

async function collect(opts: ParkedOptions): Promise<ParkedRecord[]> {
  const { kafka, topics } = clientAndTopics();
  const all = await parkedTopics(kafka, topics);
  const wanted = opts.service ? all.filter((t) => t === topics.parkedFor(opts.service!)) : all;
  if (opts.service && wanted.length === 0)
    throw new Error(`no dead-letter topic for service ${opts.service} (known: ${all.join(', ') || 'none'})`);
  const records: ParkedRecord[] = [];
  for (const t of wanted) records.push(...(await readParked(kafka, t)));
  return records.filter((r) => !opts.reason || r.letter?.reason === opts.reason.toUpperCase());
}

function line(r: ParkedRecord): string {
  const l = r.letter;
  if (!l) return `${r.parkedTopic}@${r.partition}/${r.offset}  (undecodable dead letter, ${r.raw?.length ?? 0} bytes)`;
  return [
    l.deadLetterId,
    l.reason.padEnd(14),
    `${l.service}`,
    `from ${l.sourceTopic}@${l.sourcePartition}/${l.sourceOffset}`,
    l.failedAt.toISOString(),
    l.detail.slice(0, 120),
  ].join('  ');
}

export function registerParkedCommands(program: Command): void {
  const parked = program.command('parked').description("Records a consumer could not process, on each service's dead-letter topic");
  parked
    .command('list')
    .description('List parked records with their reason and origin (topic, partition, offset)')
    .option('--service <name>', 'only this service: policy-gate, audit-logger, subscriber-<AGENCY>')
    .option('--reason <reason>', 'only this reason (UNDECODABLE, UNKNOWN_SCHEMA, INVALID_RECORD, UNSTORABLE, FORGED, ...)')
    .option('--json', 'one JSON object per line, original bytes base64')
    .action(async (opts: ParkedOptions) => {
      const records = await collect(opts);
      for (const r of records) {
        if (opts.json) {
          const l = r.letter;
          process.stdout.write(
            `${JSON.stringify({
              parkedTopic: r.parkedTopic,
              partition: r.partition,
              offset: r.offset,
              ...(l
                ? { ...l, key: l.key?.toString('base64') ?? null, value: l.value?.toString('base64') ?? null }
                : { raw: r.raw?.toString('base64') ?? null }),
            })}\n`,
          );
        } else process.stdout.write(`${line(r)}\n`);
      }
      if (!opts.json) process.stderr.write(`${records.length} parked record(s)\n`);
    });
  parked
    .command('redrive')
    .description('Re-publish parked records (original key and bytes) to their origin topic and partition')
    .requiredOption('--service <name>', 'the dead-letter topic to take them from: policy-gate, audit-logger, subscriber-<AGENCY>')
    .option('--id <deadLetterId...>', 'the dead letters to re-drive (from `parked list`)')
    .option('--all', 'every parked record of the service (with --reason: every one with that reason)')
    .option('--reason <reason>', 'with --all: only this reason')
    .option('--dry-run', 'show what would be re-driven, send nothing')
    .action(async (opts: ParkedOptions & { id?: string[]; all?: boolean; dryRun?: boolean }) => {
      if (!opts.all && (!opts.id || opts.id.length === 0)) throw new Error('say which records: --id <deadLetterId...> or --all');
      const records = await collect(opts);
      const chosen = records.flatMap((r) => (r.letter && (opts.all || opts.id!.includes(r.letter.deadLetterId)) ? [r.letter] : []));
      const missing = (opts.id ?? []).filter((id) => !chosen.some((l) => l.deadLetterId === id));
      if (missing.length > 0) throw new Error(`not parked on ${opts.service}: ${missing.join(', ')}`);
      for (const l of chosen)
        process.stdout.write(`${opts.dryRun ? 'would re-drive' : 're-drive'} ${l.deadLetterId} -> ${l.sourceTopic}@${l.sourcePartition}\n`);
      if (opts.dryRun) return;
      const { kafka } = clientAndTopics();
      const sent = await redriveParked(kafka, chosen);
      process.stderr.write(`${sent} record(s) re-driven; a record that still cannot be processed is parked again with a new dead letter\n`);
    });
}
