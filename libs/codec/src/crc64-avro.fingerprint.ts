// CRC-64-AVRO, the Rabin fingerprint the Avro specification defines for schema
// fingerprints ("Schema Fingerprints"), and the one single-object encoding carries.
// avsc only offers md5/sha256 fingerprints, so it is implemented here, table-driven
// exactly as the specification's reference code. It runs once per schema at catalog
// load, so BigInt's clarity is worth more than speed.

const MASK_64 = (1n << 64n) - 1n;
/** The specification's EMPTY: the fingerprint of the empty byte string. */
export const CRC64_AVRO_EMPTY = 0xc15d213aa4d7a795n;

const TABLE: readonly bigint[] = (() => {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) {
      // (fp >>> 1) ^ (EMPTY & -(fp & 1)) with 64-bit unsigned arithmetic.
      fp = (fp >> 1n) ^ ((fp & 1n) === 1n ? CRC64_AVRO_EMPTY : 0n);
    }
    table.push(fp);
  }
  return table;
})();

/** The fingerprint as an unsigned 64-bit integer. */
export function crc64AvroValue(bytes: Uint8Array): bigint {
  let fp = CRC64_AVRO_EMPTY;
  for (const byte of bytes) {
    fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)]!;
  }
  return fp & MASK_64;
}

/**
 * CRC-64-AVRO of a string's UTF-8 bytes (normally a schema's Parsing Canonical Form),
 * as the 8 little-endian bytes single-object encoding puts after the marker.
 */
export function crc64Avro(canonical: string | Uint8Array): Buffer {
  const bytes = typeof canonical === 'string' ? Buffer.from(canonical, 'utf8') : canonical;
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(crc64AvroValue(bytes));
  return out;
}
