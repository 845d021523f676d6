import { afterAll, describe, expect, it } from '@jest/globals';
import { CodecError } from './codec.error.js';
import { isUuid } from './logical-types.avro.js';
import { SchemaCatalog } from './schema.catalog.js';
import { removeDir, writeSchemaDir } from './testing/schema-dir.fixture.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

describe('isUuid', () => {
  it.each([
    ['6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f', true],
    ['6F1C2A4E-8A5B-4C1D-9E2F-0A1B2C3D4E5F', true],
    ['00000000-0000-0000-0000-000000000000', true],
    ['017f22e2-79b0-7cc3-98c4-dc0c0c07398f', true],
    ['6f1c2a4e8a5b4c1d9e2f0a1b2c3d4e5f', false],
    ['{6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f}', false],
    ['6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5g', false],
    [' 6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f', false],
    ['6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f\n', false],
    ['', false],
  ])('%j → %s', (value, expected) => {
    expect(isUuid(value)).toBe(expected);
  });

  it('is false for non-strings', () => {
    expect(isUuid(undefined)).toBe(false);
    expect(isUuid(42)).toBe(false);
  });
});

describe('logical types and longs through a codec', () => {
  const dir = writeSchemaDir({
    'stamp.v1.avsc': {
      type: 'record',
      name: 'Stamp',
      fields: [
        { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'n', type: 'long' },
        { name: 'maybe', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
      ],
    },
  });
  dirs.push(dir);
  const codec = SchemaCatalog.fromDirectory(dir).codecFor<{ id: string; at: Date; n: number; maybe: Date | null }>('Stamp');
  const id = '6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f';

  it.each([
    0,
    1,
    -1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 52 - 1,
    -(2 ** 52),
    -(2 ** 52) - 1,
    2 ** 53 - 2,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
  ])('long %d round-trips exactly', (n) => {
    expect(codec.decode(codec.encode({ id, at: new Date(0), n, maybe: null })).n).toBe(n);
  });

  it.each([-8.64e15, -8.64e15 + 1, -(2 ** 52) - 1, 8.64e15, 0])('timestamp %d round-trips exactly', (ms) => {
    const decoded = codec.decode(codec.encode({ id, at: new Date(ms), n: 0, maybe: new Date(ms) }));
    expect(decoded.at.getTime()).toBe(ms);
    expect(decoded.maybe?.getTime()).toBe(ms);
  });

  function reason(fn: () => unknown): string {
    try {
      fn();
    } catch (err) {
      return err instanceof CodecError ? err.reason : `not a CodecError: ${String(err)}`;
    }
    return 'no error';
  }

  it('refuses values it would have to round', () => {
    expect(reason(() => codec.encode({ id, at: new Date(0), n: 2 ** 53, maybe: null }))).toBe('INVALID_VALUE');
    expect(reason(() => codec.encode({ id, at: new Date(0), n: 0.5, maybe: null }))).toBe('INVALID_VALUE');
    expect(reason(() => codec.encode({ id, at: 0 as unknown as Date, n: 0, maybe: null }))).toBe('INVALID_VALUE');
    expect(reason(() => codec.encode({ id: id.toUpperCase().slice(1), at: new Date(0), n: 0, maybe: null }))).toBe('INVALID_VALUE');
  });

  it('refuses on decode a long beyond the safe range, a varint over 10 bytes, a time beyond Date', () => {
    const good = codec.encode({ id, at: new Date(0), n: 0, maybe: null });
    const prefix = good.subarray(0, 10 + 37); // Header and the uuid.
    const at0 = Buffer.from([0]);
    const unsafe = Buffer.concat([prefix, at0, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]), Buffer.from([0])]); // 2^62 zig-zagged.
    const tooLong = Buffer.concat([prefix, at0, Buffer.alloc(11, 0x80), Buffer.from([0, 0])]);
    const beyondDate = Buffer.concat([prefix, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]), Buffer.from([0, 0])]);
    expect(reason(() => codec.decode(unsafe))).toBe('INVALID_BODY');
    expect(reason(() => codec.decode(tooLong))).toBe('INVALID_BODY');
    expect(reason(() => codec.decode(beyondDate))).toBe('INVALID_BODY');
  });
});

describe('ints', () => {
  const dir = writeSchemaDir({ 'count.v1.avsc': { type: 'record', name: 'Count', fields: [{ name: 'n', type: 'int' }] } });
  dirs.push(dir);
  const codec = SchemaCatalog.fromDirectory(dir).codecFor<{ n: number }>('Count');

  it('round-trip over the whole 32-bit range', () => {
    for (const n of [0, -1, 2 ** 31 - 1, -(2 ** 31)]) expect(codec.decode(codec.encode({ n })).n).toBe(n);
  });

  it('refuse on decode a varint beyond 32 bits', () => {
    const header = codec.encode({ n: 0 }).subarray(0, 10);
    const big = Buffer.concat([header, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x20])]); // 2^31 zig-zagged.
    expect(() => codec.decode(big)).toThrow(CodecError);
    expect(() => codec.encode({ n: 2 ** 31 })).toThrow(CodecError);
  });
});
