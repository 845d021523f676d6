// A hostile or corrupt record must fail fast with a CodecError, whatever its block counts say.
import { afterAll, describe, expect, it } from '@jest/globals';
import { CodecError } from './codec.error.js';
import { SchemaCatalog } from './schema.catalog.js';
import { removeDir, writeSchemaDir } from './testing/schema-dir.fixture.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function catalogOf(files: Record<string, unknown>): SchemaCatalog {
  const dir = writeSchemaDir(files);
  dirs.push(dir);
  return SchemaCatalog.fromDirectory(dir);
}

const v1 = {
  type: 'record',
  name: 'Bag',
  namespace: 't',
  fields: [
    { name: 'tags', type: { type: 'array', items: 'string' }, default: [] },
    { name: 'labels', type: { type: 'map', values: 'string' }, default: {} },
    { name: 'id', type: 'int' },
  ],
};
// v2 dropped both collections: its resolver for v1 data skips them instead of reading them.
const v2 = { ...v1, fields: [{ name: 'id', type: 'int' }] };

/** Zig-zag varint of a non-negative or negative integer, as BigInt to reach 2^62. */
function varint(n: bigint): Buffer {
  let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
  const out: number[] = [];
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z) b |= 0x80;
    out.push(b);
  } while (z);
  return Buffer.from(out);
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodecError) return err.reason;
    throw err;
  }
  return 'no error';
}

describe('block counts', () => {
  const catalog = catalogOf({ 'bag.v1.avsc': v1, 'bag.v2.avsc': v2 });
  const reader = catalog.codecFor<{ tags: string[]; labels: Record<string, string>; id: number }>('Bag', { version: 1 });
  const skipper = catalog.codecFor<{ id: number }>('Bag');
  const header = reader.encode({ tags: [], labels: {}, id: 1 }).subarray(0, 10);

  const hostile: ReadonlyArray<readonly [string, Buffer]> = [
    ['an array of 2^40 items', Buffer.concat([header, varint(2n ** 40n)])],
    ['an array of 2^62 items', Buffer.concat([header, varint(2n ** 62n)])],
    ['a sized array block of -2^40 items', Buffer.concat([header, varint(-(2n ** 40n)), varint(3n), Buffer.from('abc')])],
    ['a map of 2^40 entries', Buffer.concat([header, varint(0n), varint(2n ** 40n)])],
    ['a sized block larger than the record', Buffer.concat([header, varint(-1n), varint(2n ** 40n)])],
    ['a thousand-item array in ten bytes', Buffer.concat([header, varint(1000n), Buffer.alloc(10, 2)])],
  ];

  it.each(hostile)('%s fails fast when read', (_what, bytes) => {
    const started = performance.now();
    expect(reasonOf(() => reader.decode(bytes))).toMatch(/^(TRUNCATED|INVALID_BODY)$/);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it.each(hostile)('%s fails fast when skipped by a resolver', (_what, bytes) => {
    const started = performance.now();
    expect(reasonOf(() => skipper.decode(bytes))).toMatch(/^(TRUNCATED|INVALID_BODY)$/);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('still reads and skips blocked encodings written by other implementations', () => {
    // tags: one sized block of 2 items (count -2, 4 bytes), then the end; labels: empty; id 7.
    const blocked = Buffer.concat([header, varint(-2n), varint(4n), Buffer.from([2, 0x61, 2, 0x62]), varint(0n), varint(0n), varint(7n)]);
    expect(reader.decode(blocked)).toEqual({ tags: ['a', 'b'], labels: {}, id: 7 });
    expect(skipper.decode(blocked)).toEqual({ id: 7 });
  });

  it('keeps a "__proto__" map key as data', () => {
    const labels = JSON.parse('{"__proto__": "x", "ok": "y"}') as Record<string, string>;
    const decoded = reader.decode(reader.encode({ tags: [], labels, id: 1 }));
    expect(Object.keys(decoded.labels)).toEqual(['__proto__', 'ok']);
    expect(Object.getPrototypeOf(decoded.labels)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});
