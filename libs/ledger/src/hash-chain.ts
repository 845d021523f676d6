import { createHash } from 'node:crypto';
import { canonicalText, type LedgerEntry } from './canonical-event.serializer.js';

/** prev_hash of the first row: 32 zero bytes. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/** hash = SHA-256(prev_hash || canonical bytes); prev_hash is the raw 32 bytes, not hex. */
export function chainHash(prevHash: Buffer, canonical: Buffer): Buffer {
  if (prevHash.length !== 32) throw new Error(`prev_hash must be 32 bytes, got ${prevHash.length}`);
  return createHash('sha256').update(prevHash).update(canonical).digest();
}

export function entryHash(prevHash: Buffer, entry: LedgerEntry): Buffer {
  return textHash(prevHash, canonicalText(entry));
}

/** chainHash of a canonical text, handed to the hash as UTF-8 directly (the same bytes as canonicalBytes, without a Buffer per row). */
export function textHash(prevHash: Buffer, canonical: string): Buffer {
  if (prevHash.length !== 32) throw new Error(`prev_hash must be 32 bytes, got ${prevHash.length}`);
  return createHash('sha256').update(prevHash).update(canonical, 'utf8').digest();
}

export interface ChainedEntry {
  entry: LedgerEntry;
  prevHash: Buffer;
  hash: Buffer;
}

/** Chains entries after a head (GENESIS_HASH for an empty ledger). */
export function chainEntries(head: Buffer, entries: readonly LedgerEntry[]): ChainedEntry[] {
  let prev = head;
  return entries.map((entry) => {
    const hash = entryHash(prev, entry);
    const out = { entry, prevHash: prev, hash };
    prev = hash;
    return out;
  });
}
