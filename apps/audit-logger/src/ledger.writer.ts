import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { auditEventCodec, type AuditEvent, type DeadLetter } from '@backbone/codec';
import { auditEvent } from '@backbone/kafka';
import { copyTextLine } from '@backbone/persistence';
import {
  AUDIT_SCHEMA,
  chainEntries,
  entryToParams,
  GENESIS_HASH,
  LEDGER_COLUMNS,
  PARKED_REASON,
  signCheckpoint,
  UNDECODABLE_REASON,
  type LedgerEntry,
  type SignedCheckpoint,
  type SigningKey,
} from '@backbone/ledger';

/** One advisory lock for the whole ledger: exactly one writer extends the chain at a time. */
export const LEDGER_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('backbone:audit:ledger'))`;

export interface IncomingRecord {
  offset: string;
  value: Buffer | null;
  /** Already decoded (and screened) by the ingest; decoded here when absent. */
  event?: AuditEvent;
}

export interface AppendResult {
  inserted: number;
  /** Positions or events already in the ledger (redelivery after a crash or a rewind, an event re-sent). */
  duplicates: number;
  headSeq: string;
  checkpointed: boolean;
}

export interface LedgerWriterOptions {
  signingKey: SigningKey;
  checkpointEveryRows: number;
  /** Called after the transaction that signed a checkpoint commits: anchors it outside the database. */
  onCheckpoint?: (cp: SignedCheckpoint) => Promise<void>;
}

/** COPY in text format: one statement per batch, however many rows (no bind-parameter limit). */
const COPY_LEDGER = `COPY ${AUDIT_SCHEMA}.ledger (${LEDGER_COLUMNS.join(',')}) FROM STDIN`;
/** Rows encoded per chunk written to the COPY stream (bounds the string built at once). */
const COPY_CHUNK_ROWS = 500;

/** Most rows one group-commit transaction takes (whole appends; a larger single append goes alone). */
const GROUP_MAX_ROWS = 5000;

interface PendingEvent {
  offset: string;
  event: AuditEvent;
}

interface WaitingAppend {
  topic: string;
  partition: number;
  events: readonly PendingEvent[];
  resolve: (result: AppendResult) => void;
  reject: (err: unknown) => void;
}

/** Decodes a record; an undecodable one is still recorded (as UNKNOWN, raw bytes kept) so nothing is lost or blocks the ingest. */
export function decodeAuditRecord(value: Buffer | null): AuditEvent {
  try {
    if (value === null) throw new Error('tombstone (null value)');
    return auditEventCodec.decode(value);
  } catch (err) {
    return auditEvent('UNKNOWN', 'audit-logger', {
      reason: UNDECODABLE_REASON,
      details: { error: (err as Error).message.slice(0, 500) },
      payload: value,
    });
  }
}

/**
 * The placeholder for a record PostgreSQL refused: the original bytes as payload (bytea takes any
 * bytes), the dead letter that holds it and why. The position stays in the chain, so the ledger
 * has no hole and compliance sees what was parked.
 */
export function parkedPlaceholder(value: Buffer | null, letter: DeadLetter): AuditEvent {
  return auditEvent('UNKNOWN', 'audit-logger', {
    reason: PARKED_REASON,
    details: { parkReason: letter.reason, deadLetterId: letter.deadLetterId, detail: letter.detail.slice(0, 500) },
    payload: value,
  });
}

/**
 * The single writer of the chain. Every append runs in a PostgreSQL transaction (shared with the
 * appends waiting at the same time: group commit, see appendEvents) that holds the
 * ledger advisory lock, reads the head, skips positions already stored, writes the rest with one
 * COPY FROM STDIN (in the same transaction, so the chain, the positions and the rows commit or
 * roll back together) and, when due, signs the new head.
 */
export class LedgerWriter {
  /** Appends waiting for the transaction in progress (group commit). */
  private readonly waiting: WaitingAppend[] = [];
  private flushing = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: LedgerWriterOptions,
  ) {}

  async registerKey(): Promise<void> {
    const pem = this.options.signingKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await this.pool.query(`INSERT INTO ${AUDIT_SCHEMA}.signing_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING`, [
      this.options.signingKey.keyId,
      pem,
    ]);
  }

  async append(topic: string, partition: number, records: readonly IncomingRecord[]): Promise<AppendResult> {
    return this.appendEvents(
      topic,
      partition,
      records.map((r) => ({ offset: r.offset, event: r.event ?? decodeAuditRecord(r.value) })),
    );
  }

  /** Records the placeholder of a parked record at its position (idempotent like any append). */
  async appendParked(topic: string, partition: number, offset: string, value: Buffer | null, letter: DeadLetter): Promise<AppendResult> {
    return this.appendEvents(topic, partition, [{ offset, event: parkedPlaceholder(value, letter) }]);
  }

  /**
   * Group commit: an append that arrives while another transaction is writing waits for it and is
   * then written together with every other waiting append, in one transaction (one lock, one head
   * read, one COPY, one commit) instead of one each. With partitions consumed concurrently, the
   * batches of one fetch share a transaction. Each caller's promise settles only after the
   * transaction holding its rows committed (its offsets may then be committed), and with its own
   * counts. When a shared transaction fails, its appends are written again one by one, so one
   * append's unstorable record fails that append alone.
   */
  private appendEvents(topic: string, partition: number, events: readonly PendingEvent[]): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.waiting.push({ topic, partition, events, resolve, reject });
      if (this.flushing) return;
      this.flushing = true;
      // After the current turn of the event loop: the other partitions' batches of the same fetch,
      // handed over in the same turn, join the first transaction instead of waiting for it.
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        // Whole appends, up to GROUP_MAX_ROWS rows (at least one append, however large).
        let take = 1;
        let rows = this.waiting[0]!.events.length;
        while (take < this.waiting.length && rows + this.waiting[take]!.events.length <= GROUP_MAX_ROWS)
          rows += this.waiting[take++]!.events.length;
        const group = this.waiting.splice(0, take);
        try {
          const results = await this.appendTogether(group);
          group.forEach((a, i) => a.resolve(results[i]!));
        } catch (err) {
          if (group.length === 1) group[0]!.reject(err);
          // Written again one by one: only the append whose record PostgreSQL refuses fails.
          else
            for (const a of group) {
              try {
                a.resolve((await this.appendTogether([a]))[0]!);
              } catch (alone) {
                a.reject(alone);
              }
            }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One transaction for the given appends, in order; a result for each. */
  private async appendTogether(group: readonly WaitingAppend[]): Promise<AppendResult[]> {
    const { results, signed } = await this.inTransaction(async (client) => {
      const all = group.flatMap((a) => a.events.map((e) => ({ topic: a.topic, partition: a.partition, offset: e.offset })));
      const existing = await client.query<{ topic: string; kafka_partition: number; kafka_offset: string }>(
        `SELECT p.topic, p.kafka_partition, p.kafka_offset::text AS kafka_offset
           FROM unnest($1::text[], $2::int[], $3::bigint[]) AS p(topic, kafka_partition, kafka_offset)
          WHERE EXISTS (SELECT 1 FROM ${AUDIT_SCHEMA}.ledger l
                         WHERE l.topic = p.topic AND l.kafka_partition = p.kafka_partition AND l.kafka_offset = p.kafka_offset)`,
        [all.map((r) => r.topic), all.map((r) => r.partition), all.map((r) => r.offset)],
      );
      const position = (topic: string, partition: number, offset: string): string => `${topic}\u0000${partition}\u0000${offset}`;
      const seen = new Set(existing.rows.map((r) => position(r.topic, r.kafka_partition, String(r.kafka_offset))));
      // The same event can reach the topic twice at different positions: the subscriber's audit
      // outbox re-sends an event (same eventId) when it died before recording the send. The
      // ledger keeps each event once; the later copy counts as a duplicate.
      const ids = group.flatMap((a) => a.events.map((e) => e.event.eventId));
      const known = await client.query<{ event_id: string }>(
        `SELECT event_id FROM ${AUDIT_SCHEMA}.ledger WHERE event_id = ANY($1::text[])`,
        [ids],
      );
      const seenIds = new Set(known.rows.map((r) => r.event_id));
      const head = await this.head(client);
      const recordedAt = new Date();
      let next = BigInt(head.seq);
      const fresh: LedgerEntry[] = [];
      const inserted = group.map((a) => {
        let n = 0;
        for (const e of a.events) {
          // A batch never repeats an offset, but guard anyway: the position is the identity.
          const at = position(a.topic, a.partition, e.offset);
          if (seen.has(at) || seenIds.has(e.event.eventId)) continue;
          seen.add(at);
          seenIds.add(e.event.eventId);
          next += 1n;
          n++;
          fresh.push({ seq: next.toString(), topic: a.topic, partition: a.partition, offset: e.offset, recordedAt, event: e.event });
        }
        return n;
      });
      const headHash = await this.insertChained(client, head.hash, fresh);
      const headSeq = next.toString();
      const cp = fresh.length > 0 ? await this.checkpointIfDue(client, headSeq, headHash, false) : null;
      return {
        results: group.map((a, i) => ({
          inserted: inserted[i]!,
          duplicates: a.events.length - inserted[i]!,
          headSeq,
          checkpointed: cp !== null,
        })),
        signed: cp,
      };
    });
    if (signed) await this.options.onCheckpoint?.(signed);
    return results;
  }

  /** Signs the head if it moved since the last checkpoint (the timer's job). */
  async checkpointNow(): Promise<boolean> {
    const signed = await this.inTransaction(async (client) => {
      const head = await this.head(client);
      if (head.seq === '0') return null;
      return this.checkpointIfDue(client, head.seq, head.hash, true);
    });
    if (signed) await this.options.onCheckpoint?.(signed);
    return signed !== null;
  }

  /** Copies the entries chained onto `headHash` into the ledger; returns the new head hash (`headHash` when there are none). */
  private async insertChained(client: pg.PoolClient, headHash: Buffer, entries: LedgerEntry[]): Promise<Buffer> {
    if (entries.length === 0) return headHash;
    let prev = headHash;
    // Chained and encoded lazily, a chunk at a time, as the stream asks for more (back-pressure
    // from the socket): hashing the next rows overlaps PostgreSQL writing the previous ones.
    function* lines(): Generator<string> {
      for (let i = 0; i < entries.length; i += COPY_CHUNK_ROWS) {
        let chunk = '';
        for (const c of chainEntries(prev, entries.slice(i, i + COPY_CHUNK_ROWS))) {
          chunk += copyTextLine(entryToParams(c.entry, c.prevHash, c.hash));
          prev = c.hash;
        }
        yield chunk;
      }
    }
    // A row PostgreSQL refuses (e.g. a NUL in a string) fails the whole COPY, hence the transaction:
    // the ingest then appends the batch one record at a time and parks the one that fails.
    await pipeline(Readable.from(lines()), client.query(copyFrom(COPY_LEDGER)));
    return prev;
  }

  private async head(client: pg.PoolClient): Promise<{ seq: string; hash: Buffer }> {
    const r = await client.query<{ seq: string; hash: Buffer }>(`SELECT seq, hash FROM ${AUDIT_SCHEMA}.ledger ORDER BY seq DESC LIMIT 1`);
    const row = r.rows[0];
    return row ? { seq: String(row.seq), hash: row.hash } : { seq: '0', hash: GENESIS_HASH };
  }

  /** `headHash` is the hash of the entry at `headSeq`. */
  private async checkpointIfDue(
    client: pg.PoolClient,
    headSeq: string,
    headHash: Buffer,
    force: boolean,
  ): Promise<SignedCheckpoint | null> {
    const last = await client.query<{ seq: string | null }>(`SELECT max(seq)::text AS seq FROM ${AUDIT_SCHEMA}.checkpoints`);
    const lastSeq = BigInt(last.rows[0]?.seq ?? '0');
    const since = BigInt(headSeq) - lastSeq;
    if (since <= 0n || (!force && since < BigInt(this.options.checkpointEveryRows))) return null;
    const key = this.options.signingKey;
    const signature = signCheckpoint(key, headSeq, headHash);
    await client.query(`INSERT INTO ${AUDIT_SCHEMA}.checkpoints (seq, head_hash, signature, key_id) VALUES ($1, $2, $3, $4)`, [
      headSeq,
      headHash,
      signature,
      key.keyId,
    ]);
    return { seq: headSeq, headHash, signature, keyId: key.keyId };
  }

  private async inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection killed while checked out (server restart, pg_terminate_backend) emits 'error'
    // on the client between queries; unhandled, that would end the process. The next query then
    // fails, the append throws and the batch is redelivered; the client is discarded.
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      await client.query(LEDGER_LOCK_SQL);
      const out = await work(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      // After any failure the connection is not trusted again (cheap: the pool opens another).
      broken ??= err instanceof Error ? err : new Error(String(err));
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}
