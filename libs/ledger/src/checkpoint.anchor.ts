import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { Kafka, Producer } from 'kafkajs';

// Checkpoints anchored outside the database they protect. Whoever owns the database can delete
// checkpoint rows, rewrite the chain and let the logger sign the forged head; the anchors on
// Kafka (only the audit logger may write the topic) and in an operator-named append-only file
// still hold the heads signed before, and verify compares the ledger with them.

/** One signed chain head as anchored: JSON on the checkpoints topic and one line of the file. */
export interface Anchor {
  /**
   * The ledger it belongs to (audit.ledger_identity): every ledger on a broker shares the
   * checkpoints topic. Absent on anchors written before ledgers had ids.
   */
  ledgerId?: string;
  seq: string;
  /** hex */
  headHash: string;
  /** base64 Ed25519 signature over the checkpoint message (checkpoint-signer.ts) */
  signature: string;
  keyId: string;
  signedAt: string;
}

export interface SignedCheckpoint {
  seq: string;
  headHash: Buffer;
  signature: Buffer;
  keyId: string;
}

export function anchorOf(cp: SignedCheckpoint, ledgerId: string, signedAt = new Date()): Anchor {
  return {
    ledgerId,
    seq: cp.seq,
    headHash: cp.headHash.toString('hex'),
    signature: cp.signature.toString('base64'),
    keyId: cp.keyId,
    signedAt: signedAt.toISOString(),
  };
}

/** Consumer groups that read the anchors back (the audit logger's ACL grants this prefix). */
export const ANCHOR_READER_GROUP_PREFIX = 'audit-logger-anchors-';

/** Publishes each checkpoint (acks=all) and, when the operator named one, appends it to a file. */
export class CheckpointAnchor {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string | null,
    private readonly file: string | null,
    private readonly ledgerId: string,
  ) {}

  async anchor(cp: SignedCheckpoint): Promise<void> {
    const anchor = anchorOf(cp, this.ledgerId);
    const line = JSON.stringify(anchor);
    // Keyed by the ledger: the key says whose anchor it is without parsing the value.
    if (this.topic) await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: this.ledgerId, value: line }] });
    if (this.file) appendFileSync(this.file, `${line}\n`, { mode: 0o600 });
  }
}

/** Anchors from several places, one per seq (the file and the topic normally hold the same ones). */
export function mergeAnchors(...lists: readonly (readonly Anchor[])[]): Anchor[] {
  const bySeq = new Map<string, Anchor>();
  for (const list of lists) for (const a of list) if (!bySeq.has(a.seq)) bySeq.set(a.seq, a);
  return [...bySeq.values()];
}

/**
 * The anchors of one ledger: those naming it. Another ledger's anchors on a shared topic are not
 * evidence about this one, and neither are anchors that name no ledger (written before anchors
 * carried one): ledgers that share a signing key (every `npm start` on one machine) cannot be told
 * apart by key, and such an anchor made a fresh ledger fail verify with "checkpoint-missing". A
 * ledger left without anchors still fails verify past AUDIT_MAX_UNANCHORED_TAIL.
 */
export function anchorsOfLedger(anchors: readonly Anchor[], ledgerId: string): Anchor[] {
  return anchors.filter((a) => a.ledgerId === ledgerId);
}

/** The anchor topic could not be read (missing, not authorised, broker down): verify cannot compare with it. */
export class AnchorsUnreadableError extends Error {
  constructor(
    readonly topic: string,
    cause: unknown,
  ) {
    super(`the anchor topic ${topic} could not be read: ${(cause as Error).message ?? String(cause)}`);
    this.name = 'AnchorsUnreadableError';
  }
}

export function readAnchorsFromFile(path: string): Anchor[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Anchor);
}

/**
 * Every anchor on the topic, read up to its current end (one partition, in order). `onExtent` is
 * called as soon as that end is fixed (or the read failed), before the records are consumed: what
 * is compared with the anchors must be read after it (see VerifyOptions.checkpointsAfter).
 */
export async function readAnchorsFromKafka(kafka: Kafka, topic: string, groupId: string, onExtent?: () => void): Promise<Anchor[]> {
  const admin = kafka.admin();
  let high: bigint;
  try {
    await admin.connect();
    // A missing topic is answered at once (fetchTopicOffsets would retry it for tens of seconds).
    if (!(await admin.listTopics()).includes(topic)) throw new Error('the topic does not exist');
    const offsets = await admin.fetchTopicOffsets(topic);
    high = offsets.reduce((max, o) => (BigInt(o.high) > max ? BigInt(o.high) : max), 0n);
  } catch (err) {
    throw new AnchorsUnreadableError(topic, err);
  } finally {
    onExtent?.();
    await admin.disconnect();
  }
  if (high === 0n) return [];
  const anchors: Anchor[] = [];
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            if (message.value) anchors.push(JSON.parse(message.value.toString('utf8')) as Anchor);
            if (BigInt(message.offset) + 1n >= high) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return anchors;
}
