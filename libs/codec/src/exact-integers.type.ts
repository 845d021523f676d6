// Integer types that never round or overflow silently.
//
// avsc 5.7 encodes and decodes `long` with float arithmetic, which silently flips the sign of
// values below -2^52 (e.g. -8.64e15 comes back as +8.64e15) and rejects 2^53-1. This long
// type is exact over the whole safe-integer range: avsc's fast path where it is exact, BigInt
// beyond. Values outside ±(2^53-1) are refused rather than rounded.
import avro from 'avsc';

interface AvroTap {
  buf: Buffer;
  pos: number;
  readInt(): number;
  readLong(): number;
  writeLong(n: number): void;
}

/** Below this magnitude avsc's zig-zag value stays under 2^53, where floats are exact. */
const FAST_LIMIT = 2 ** 52;
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

function readLongExact(tap: AvroTap): number {
  let z = 0n;
  let shift = 0n;
  let b: number | undefined;
  do {
    b = tap.buf[tap.pos++];
    // Past the end: the decoder sees the position beyond the buffer and reports TRUNCATED.
    if (b === undefined) return 0;
    z |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  } while (b & 0x80 && shift < 70n);
  if (b & 0x80) throw new Error('long longer than 10 bytes');
  const n = z & 1n ? -((z + 1n) >> 1n) : z >> 1n;
  if (n > MAX || n < -MAX) throw new Error('long outside the safe integer range');
  return Number(n);
}

function writeLongExact(tap: AvroTap, n: number): void {
  const big = BigInt(n);
  let z = big >= 0n ? big << 1n : (-big << 1n) - 1n;
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z !== 0n) b |= 0x80;
    // Past the end of the buffer this writes nothing and the encoder grows the buffer.
    tap.buf[tap.pos++] = b;
  } while (z !== 0n);
}

export class ExactLongType extends avro.types.LongType {
  _check(val: unknown, _flags: unknown, hook?: (val: unknown, type: ExactLongType) => void): boolean {
    const ok = typeof val === 'number' && Number.isSafeInteger(val);
    if (!ok && hook) hook(val, this);
    return ok;
  }

  _read(tap: AvroTap): number {
    const start = tap.pos;
    const n = tap.readLong();
    // Java refuses varints over 10 bytes too; avsc would read any run of continuation bytes.
    if (tap.pos - start > 10 && tap.pos <= tap.buf.length) throw new Error('long longer than 10 bytes');
    if (n > -FAST_LIMIT && n < FAST_LIMIT) return n;
    tap.pos = start;
    return readLongExact(tap);
  }

  _write(tap: AvroTap, val: unknown): void {
    if (typeof val !== 'number' || !Number.isSafeInteger(val)) throw new Error('invalid long');
    if (val > -FAST_LIMIT && val < FAST_LIMIT) tap.writeLong(val);
    else writeLongExact(tap, val);
  }
}

/** avsc reads an `int` as a long and returns whatever it got; Java refuses values beyond 32 bits. */
export class CheckedIntType extends avro.types.IntType {
  _read(tap: AvroTap): number {
    const start = tap.pos;
    const n = tap.readInt();
    if (n !== (n | 0) || tap.pos - start > 5) {
      // Past the end the decoder reports TRUNCATED; only complete varints are judged here.
      if (tap.pos <= tap.buf.length) throw new Error('int outside 32 bits');
    }
    return n;
  }
}
