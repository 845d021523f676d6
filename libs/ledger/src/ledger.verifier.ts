import type { KeyObject } from 'node:crypto';
import type pg from 'pg';
import { streamCopyRows } from '@backbone/persistence';
import type { EventKeyring } from '@backbone/codec';
import { verifyCheckpoint } from './checkpoint-signer.js';
import { forgeryOf } from './emitter.rules.js';
import type { Anchor } from './checkpoint.anchor.js';
import { canonicalDecisions, canonicalTextWithDecisions } from './canonical-event.serializer.js';
import { entryHash, GENESIS_HASH, textHash } from './hash-chain.js';
import { AUDIT_SCHEMA } from './ledger.schema.js';
import {
  COPY_DECISIONS_FIELD,
  copyFieldsToRow,
  LEDGER_COLUMNS,
  LEDGER_COPY_SELECT,
  PARKED_REASON,
  rowToEntry,
  UNDECODABLE_REASON,
} from './ledger-row.mapper.js';

export type BreakKind =
  /** The row's content no longer hashes to its stored hash: a field was modified (or the row forged). */
  | 'modified'
  /** A sequence number is missing: the row was deleted. */
  | 'deleted'
  /** The row between two otherwise linked rows does not belong: it was inserted. */
  | 'inserted'
  /** The row does not link to its predecessor: rows were reordered, or one was deleted/inserted and renumbered. */
  | 'reordered'
  /** A signed checkpoint does not match the chain (the chain was rewritten consistently, or the tail truncated). */
  | 'checkpoint-mismatch'
  /** A checkpoint signature does not verify, or is by an unknown key. */
  | 'bad-signature'
  /** An event's own signature (its emitter's) does not verify, or its signer may not emit it. */
  | 'forged-event'
  /** A checkpoint anchored outside the database has no matching checkpoint row: rows were deleted. */
  | 'checkpoint-missing'
  /** The chain at the latest anchor's seq does not hash to the anchored head: rewritten, even if re-signed. */
  | 'anchor-mismatch'
  /** More rows after the latest anchor than the configured bound allows. */
  | 'unanchored-tail';

export interface ChainBreak {
  /** The first ledger sequence number at which the chain no longer holds. */
  seq: number;
  kind: BreakKind;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  rows: number;
  checkpoints: number;
  checkpointsVerified: number;
  headSeq: number;
  headHash: string | null;
  /** Rows after the last checkpoint: chained but not yet signed. */
  unsignedTail: number;
  firstBreak: ChainBreak | null;
  /** Rows whose emitter signature was re-checked (only when event keys were given). */
  eventSignaturesVerified: number;
  /** Rows without an emitter signature: written before signatures, or undecodable records the logger kept. */
  unsignedEvents: number;
  /** Checkpoints anchored outside the database that were compared (0: none given). */
  anchors: number;
  latestAnchorSeq: number | null;
  /** Why the anchors could not be compared (their topic unreadable); the report is then not ok. */
  anchorProblem: string | null;
  /** Records the ingest could not store and parked; a placeholder row holds each position (GET /compliance/parked). */
  parked: number;
  /** Records that did not decode, kept whole as UNKNOWN rows. */
  undecodable: number;
  durationMs: number;
}

interface CheckpointRow {
  seq: string;
  head_hash: Buffer;
  signature: Buffer;
  key_id: string;
}

export interface VerifyOptions {
  /** Public event keys: every row's emitter signature is re-checked. */
  eventKeyring?: EventKeyring;
  /** Checkpoints anchored outside the database (Kafka topic or operator file); compared with the ledger. */
  anchors?: readonly Anchor[];
  /** Fail when more rows than this follow the latest anchor (needs anchors). */
  maxUnanchoredTail?: number;
  /** The anchors should have been compared but could not be read (e.g. their topic is missing). */
  anchorProblem?: string;
  /**
   * The same three, still being read (from Kafka) while the chain is walked; awaited after the
   * walk and taking precedence over the fields above. A rejection fails the verify.
   */
  anchorsFrom?: Promise<AnchorEvidence>;
  /**
   * Resolves once the anchors' extent is fixed (the anchor topic's end offset read); the
   * checkpoints are read after it. An anchor is written only after its checkpoint row commits, so
   * every anchor then has its row in what verify reads. Read the other way round, a checkpoint
   * signed and anchored in between (the ingest catching up after a broker hang) was reported as
   * "checkpoint-missing" although nothing had been deleted. A rejection counts as resolved.
   */
  checkpointsAfter?: Promise<unknown>;
}

/** What the anchors outside the database say, as read for one verify. */
export type AnchorEvidence = Pick<VerifyOptions, 'anchors' | 'maxUnanchoredTail' | 'anchorProblem'>;

/**
 * Every anchor must have its checkpoint row (same head); the latest anchor must be validly signed
 * and the chain as it is now must hash to it at its seq; the unanchored tail must stay in bound.
 */
function checkAnchors(
  anchors: readonly Anchor[],
  cps: readonly CheckpointRow[],
  chainAt: ReadonlyMap<string, Buffer>,
  trustedKeys: ReadonlyMap<string, KeyObject>,
  headSeq: bigint,
  maxTail: number | undefined,
  fail: (seq: bigint, kind: BreakKind, message: string) => void,
): void {
  const bySeq = new Map(cps.map((cp) => [cp.seq, cp]));
  const ordered = [...anchors].sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0));
  for (const a of ordered) {
    const cp = bySeq.get(a.seq);
    if (!cp || cp.head_hash.toString('hex') !== a.headHash) {
      fail(
        BigInt(a.seq),
        'checkpoint-missing',
        `the checkpoint at ${a.seq} anchored outside the database is ${cp ? 'different' : 'missing'} in the ledger`,
      );
      return;
    }
  }
  const latest = ordered[ordered.length - 1]!;
  const key = trustedKeys.get(latest.keyId);
  if (!key || !verifyCheckpoint(key, latest.seq, Buffer.from(latest.headHash, 'hex'), Buffer.from(latest.signature, 'base64'))) {
    fail(BigInt(latest.seq), 'bad-signature', `the latest anchor (seq ${latest.seq}) is not signed by a trusted key`);
    return;
  }
  const chain = chainAt.get(latest.seq);
  if (!chain || chain.toString('hex') !== latest.headHash) {
    fail(BigInt(latest.seq), 'anchor-mismatch', `the chain at ${latest.seq} does not match the latest anchor: the ledger was rewritten`);
    return;
  }
  if (maxTail !== undefined && headSeq - BigInt(latest.seq) > BigInt(maxTail)) {
    fail(BigInt(latest.seq) + 1n, 'unanchored-tail', `${headSeq - BigInt(latest.seq)} rows follow the latest anchor (bound ${maxTail})`);
  }
}

/**
 * Walks the chain in seq order through one server-side cursor (constant memory) and the checkpoints in
 * lockstep, stopping at the first break. `trustedKeys` come from the key file, never from the
 * database, so whoever can rewrite the tables cannot also forge the signatures.
 */
export async function verifyLedger(
  pool: pg.Pool,
  trustedKeys: ReadonlyMap<string, KeyObject>,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  // Settled into a value at once: a rejection while the walk is still running is not unhandled.
  const later = options.anchorsFrom?.then(
    (evidence) => ({ evidence }),
    (err: unknown) => ({ err }),
  );
  // The chain's hash at each checkpoint's seq, filled in during the walk: an anchor must match a
  // checkpoint row before its seq is looked up here, so the anchors need not be known yet.
  const chainAt = new Map<string, Buffer>();
  let eventSignaturesVerified = 0;
  let unsignedEvents = 0;
  const started = performance.now();
  // Counted alongside the walk (another connection) rather than after it.
  const setAsideQuery = pool.query<{ reason: string; n: string }>(
    `SELECT reason, count(*)::text AS n FROM ${AUDIT_SCHEMA}.ledger WHERE type = 'UNKNOWN' AND reason = ANY($1) GROUP BY reason`,
    [[PARKED_REASON, UNDECODABLE_REASON]],
  );
  // Settled at once: a failure while the walk runs is thrown below, not left unhandled.
  setAsideQuery.catch(() => undefined);
  await options.checkpointsAfter?.catch(() => undefined);
  const cps = (
    await pool.query<CheckpointRow>(
      `SELECT seq::text AS seq, head_hash, signature, key_id FROM ${AUDIT_SCHEMA}.checkpoints c ORDER BY c.seq`,
    )
  ).rows;
  let cpIndex = 0;
  let verifiedCps = 0;
  let rows = 0;
  let expectedSeq = 1n;
  let prevHash = GENESIS_HASH;
  // The hash before the previous row, to recognise an inserted row (its successor links past it).
  let prevPrevHash: Buffer | null = null;
  let lastCpSeq = 0n;
  // A holder rather than a local: TypeScript does not see assignments made inside the closure.
  const result: { firstBreak: ChainBreak | null } = { firstBreak: null };
  const fail = (seq: bigint, kind: BreakKind, message: string): void => {
    result.firstBreak = { seq: Number(seq), kind, message };
  };

  // One COPY of the whole chain (a single index scan, no pages, no cursor round trips), read as
  // it streams: memory stays bounded whatever the ledger's size; leaving the loop at a break ends it.
  outer: for await (const page of streamCopyRows(pool, `SELECT ${LEDGER_COPY_SELECT} FROM ${AUDIT_SCHEMA}.ledger ORDER BY seq`, {
    columns: LEDGER_COLUMNS.length,
  })) {
    for (const fields of page) {
      // The decisions (most of a DECIDED row) go from their jsonb text straight to canonical text
      // when they have the gate's shape; they are parsed into objects only when that fails or a
      // signature check needs them.
      const decisionsText = fields[COPY_DECISIONS_FIELD]!;
      const knownDecisions = canonicalDecisions(decisionsText);
      const row = copyFieldsToRow(fields, knownDecisions === null);
      const seq = BigInt(row.seq);
      if (seq !== expectedSeq) {
        fail(expectedSeq, 'deleted', `row ${expectedSeq} is missing (next present row is ${seq})`);
        break outer;
      }
      if (!row.prev_hash.equals(prevHash)) {
        if (prevPrevHash !== null && row.prev_hash.equals(prevPrevHash)) {
          fail(seq - 1n, 'inserted', `row ${seq - 1n} was inserted: row ${seq} links to row ${seq - 2n}`);
        } else {
          fail(seq, 'reordered', `row ${seq} does not link to row ${seq - 1n} (rows reordered, or deleted/inserted and renumbered)`);
        }
        break outer;
      }
      const entry = rowToEntry(row);
      let decisionsParsed = knownDecisions === null;
      const parseDecisions = (): void => {
        if (!decisionsParsed) entry.event.decisions = JSON.parse(decisionsText) as typeof entry.event.decisions;
        decisionsParsed = true;
      };
      const knownText = knownDecisions === null ? null : canonicalTextWithDecisions(entry, knownDecisions);
      if (knownText === null) parseDecisions();
      const computed = knownText !== null ? textHash(prevHash, knownText) : entryHash(prevHash, entry);
      if (cpIndex < cps.length && BigInt(cps[cpIndex]!.seq) === seq) chainAt.set(String(seq), computed);
      if (!computed.equals(row.hash)) {
        fail(seq, 'modified', `row ${seq} was modified: its content does not hash to its stored hash`);
        break outer;
      }
      if (entry.event.signature === null) unsignedEvents++;
      else if (options.eventKeyring) {
        // Re-checked from the row alone: the signature covers the event's fields, not its ledger position.
        parseDecisions();
        const why = forgeryOf(entry.event, options.eventKeyring);
        if (why !== null) {
          fail(seq, 'forged-event', `row ${seq}: ${why}`);
          break outer;
        }
        eventSignaturesVerified++;
      }
      while (cpIndex < cps.length && BigInt(cps[cpIndex]!.seq) === seq) {
        const cp = cps[cpIndex]!;
        if (!cp.head_hash.equals(computed)) {
          fail(
            lastCpSeq + 1n,
            'checkpoint-mismatch',
            `checkpoint at ${seq} does not match the chain: rows ${lastCpSeq + 1n}..${seq} were rewritten`,
          );
          break outer;
        }
        const key = trustedKeys.get(cp.key_id);
        if (!key || !verifyCheckpoint(key, cp.seq, cp.head_hash, cp.signature)) {
          fail(seq, 'bad-signature', `checkpoint at ${seq} has ${key ? 'an invalid signature' : `an unknown key id ${cp.key_id}`}`);
          break outer;
        }
        verifiedCps++;
        lastCpSeq = seq;
        cpIndex++;
      }
      if (cpIndex < cps.length && BigInt(cps[cpIndex]!.seq) < seq) {
        // A checkpoint for a seq we walked past without finding (cannot happen with gapless seqs; defensive).
        fail(BigInt(cps[cpIndex]!.seq), 'checkpoint-mismatch', `checkpoint at ${cps[cpIndex]!.seq} has no row`);
        break outer;
      }
      prevPrevHash = prevHash;
      prevHash = computed;
      expectedSeq = seq + 1n;
      rows++;
    }
  }
  if (!result.firstBreak && cpIndex < cps.length) {
    // Signed rows beyond the end: the tail of the ledger was deleted.
    fail(expectedSeq, 'deleted', `rows ${expectedSeq}..${cps[cps.length - 1]!.seq} were signed by a checkpoint but are missing`);
  }
  const headSeq = Number(expectedSeq - 1n);
  let evidence: AnchorEvidence = options;
  if (later) {
    const settled = await later;
    if ('err' in settled) throw settled.err;
    evidence = settled.evidence;
  }
  const anchors = evidence.anchors ?? [];
  if (!result.firstBreak && anchors.length > 0)
    checkAnchors(anchors, cps, chainAt, trustedKeys, BigInt(headSeq), evidence.maxUnanchoredTail, fail);
  else if (!result.firstBreak && evidence.anchors && evidence.maxUnanchoredTail !== undefined && headSeq > evidence.maxUnanchoredTail)
    // Anchoring is on but none names this ledger: a ledger whose identity was swapped (its old
    // anchors then name another id) looks like this too, so the bound applies from the start.
    fail(1n, 'unanchored-tail', `${headSeq} rows and no anchored checkpoint of this ledger (bound ${evidence.maxUnanchoredTail})`);
  const latestAnchor = anchors.length > 0 ? anchors.reduce((a, b) => (BigInt(b.seq) > BigInt(a.seq) ? b : a)) : null;
  const setAside = await setAsideQuery;
  const countOf = (reason: string): number => Number(setAside.rows.find((r) => r.reason === reason)?.n ?? 0);
  return {
    // Unread anchors prove nothing either way: a chain that may have been rewritten is not "ok".
    ok: result.firstBreak === null && !evidence.anchorProblem,
    rows,
    checkpoints: cps.length,
    checkpointsVerified: verifiedCps,
    headSeq,
    headHash: headSeq > 0 ? prevHash.toString('hex') : null,
    unsignedTail: Number(expectedSeq - 1n - lastCpSeq),
    firstBreak: result.firstBreak,
    eventSignaturesVerified,
    unsignedEvents,
    anchors: anchors.length,
    latestAnchorSeq: latestAnchor ? Number(latestAnchor.seq) : null,
    anchorProblem: evidence.anchorProblem ?? null,
    parked: countOf(PARKED_REASON),
    undecodable: countOf(UNDECODABLE_REASON),
    durationMs: Math.round(performance.now() - started),
  };
}
