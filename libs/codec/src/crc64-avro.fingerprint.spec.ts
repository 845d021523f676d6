import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parsingCanonicalForm, type AvroSchemaJson } from './canonical-form.schema.js';
import { crc64Avro, crc64AvroValue } from './crc64-avro.fingerprint.js';
import { locateSchemasDir } from './schema.catalog.js';

/** A signed 64-bit fingerprint (as Java prints it) as the 8 little-endian bytes on the wire. */
function le(signed: bigint): string {
  const buf = Buffer.alloc(8);
  buf.writeBigInt64LE(signed);
  return buf.toString('hex');
}

// Test vectors of the Avro project (share/test/data/schema-tests.txt), which the Java
// implementation cross-checks against its direct implementation of the specification:
// input schema, its Parsing Canonical Form, and CRC-64-AVRO as a signed Java long.
const AVRO_VECTORS: ReadonlyArray<readonly [input: string, canonical: string, fingerprint?: bigint]> = [
  ['"null"', '"null"', 7195948357588979594n],
  ['{"type":"null"}', '"null"'],
  ['"boolean"', '"boolean"', -6970731678124411036n],
  ['{"type":"boolean"}', '"boolean"'],
  ['"int"', '"int"', 8247732601305521295n],
  ['{"type":"int"}', '"int"'],
  ['"long"', '"long"', -3434872931120570953n],
  ['{"type":"long"}', '"long"'],
  ['"float"', '"float"', 5583340709985441680n],
  ['{"type":"float"}', '"float"'],
  ['"double"', '"double"', -8181574048448539266n],
  ['{"type":"double"}', '"double"'],
  ['"bytes"', '"bytes"', 5746618253357095269n],
  ['{"type":"bytes"}', '"bytes"'],
  ['"string"', '"string"', -8142146995180207161n],
  ['{"type":"string"}', '"string"'],
  ['[  ]', '[]', -1241056759729112623n],
  ['[ "int"  ]', '["int"]', -5232228896498058493n],
  ['[ "int" , {"type":"boolean"} ]', '["int","boolean"]', 5392556393470105090n],
  ['{"fields":[], "type":"record", "name":"foo"}', '{"name":"foo","type":"record","fields":[]}', -4824392279771201922n],
  [
    '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
    '{"name":"x.y.foo","type":"record","fields":[]}',
    5916914534497305771n,
  ],
  [
    '{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}',
    '{"name":"a.b.foo","type":"record","fields":[]}',
    -4616218487480524110n,
  ],
  [
    '{"fields":[], "type":"record", "name":"foo", "doc":"Useful info"}',
    '{"name":"foo","type":"record","fields":[]}',
    -4824392279771201922n,
  ],
  [
    '{"fields":[], "type":"record", "name":"foo", "aliases":["foo","bar"]}',
    '{"name":"foo","type":"record","fields":[]}',
    -4824392279771201922n,
  ],
  [
    '{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}',
    '{"name":"foo","type":"record","fields":[]}',
    -4824392279771201922n,
  ],
  [
    '{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record", "name":"foo"}',
    '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}',
    7843277075252814651n,
  ],
  [
    `{ "fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":"true"},
                 {"order":"descending","name":"f2","doc":"Hello","type":"int"}],
       "type":"record", "name":"foo"
     }`,
    '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
    -4860222112080293046n,
  ],
  ['{"type":"enum", "name":"foo", "symbols":["A1"]}', '{"name":"foo","type":"enum","symbols":["A1"]}', -6342190197741309591n],
  [
    '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}',
    '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
    -4448647247586288245n,
  ],
  ['{"name":"foo","type":"fixed","size":15}', '{"name":"foo","type":"fixed","size":15}', 1756455273707447556n],
  [
    '{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}',
    '{"name":"x.y.z.foo","type":"fixed","size":32}',
    -3064184465700546786n,
  ],
  ['{ "items":{"type":"null"}, "type":"array"}', '{"type":"array","items":"null"}', -589620603366471059n],
  ['{ "values":"string", "type":"map"}', '{"type":"map","values":"string"}', -8732877298790414990n],
  [
    '{"name":"PigValue","type":"record","fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
    '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
    -1759257747318642341n,
  ],
];

// Our schemas as Java Avro 1.12.0 computes them (SchemaNormalization.parsingFingerprint64 on
// the .avsc file), printed as a signed long. A change here is a new schema version: the file
// must then be a new <subject>.v<N+1>.avsc, never an edit of a published one.
const OUR_SCHEMAS: ReadonlyArray<readonly [file: string, javaFingerprint: bigint, wireHex: string]> = [
  ['alert.v1.avsc', -7105908202968276905n, '57a08a5b23be629d'],
  ['audit-event.v1.avsc', -5035368094325060142n, 'd24d6b9065c71eba'],
  ['dead-letter.v1.avsc', 7914864047383915n, '6b65fde3861e1c00'],
  ['delivery.v1.avsc', 6757927287479034679n, '37631b1c10fbc85d'],
];

describe('CRC-64-AVRO', () => {
  it('is EMPTY for no bytes', () => {
    expect(crc64AvroValue(new Uint8Array())).toBe(0xc15d213aa4d7a795n);
  });

  it.each(AVRO_VECTORS.filter((v) => v[2] !== undefined))('matches the Avro test vector for %s', (_input, canonical, fingerprint) => {
    expect(crc64Avro(canonical).toString('hex')).toBe(le(fingerprint!));
    expect(crc64AvroValue(Buffer.from(canonical))).toBe(BigInt.asUintN(64, fingerprint!));
  });

  it('hashes the UTF-8 bytes of the string', () => {
    expect(crc64Avro('"é"').equals(crc64Avro(Buffer.from('"é"', 'utf8')))).toBe(true);
    expect(crc64Avro('"é"').equals(crc64Avro(Buffer.from('"é"', 'latin1')))).toBe(false);
  });
});

describe('Parsing Canonical Form', () => {
  it.each(AVRO_VECTORS)('normalises %s', (input, canonical) => {
    expect(parsingCanonicalForm(JSON.parse(input) as AvroSchemaJson)).toBe(canonical);
  });

  it('strips logical types, defaults and docs, and qualifies nested and referenced names', () => {
    const schema = {
      type: 'record',
      name: 'Outer',
      namespace: 'a.b',
      doc: 'x',
      fields: [
        { name: 'id', type: { type: 'string', logicalType: 'uuid' }, doc: 'y' },
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'], default: 'A' }, default: 'B' },
        { name: 'again', type: { type: 'array', items: 'Kind' }, default: [] },
        { name: 'other', type: { type: 'fixed', name: 'c.Hash', size: 16 } },
        { name: 'inner', type: { type: 'record', name: 'Inner', fields: [{ name: 'h', type: 'c.Hash' }] } },
      ],
    };
    expect(parsingCanonicalForm(schema)).toBe(
      '{"name":"a.b.Outer","type":"record","fields":[' +
        '{"name":"id","type":"string"},' +
        '{"name":"at","type":"long"},' +
        '{"name":"kind","type":{"name":"a.b.Kind","type":"enum","symbols":["A","B"]}},' +
        '{"name":"again","type":{"type":"array","items":"a.b.Kind"}},' +
        '{"name":"other","type":{"name":"c.Hash","type":"fixed","size":16}},' +
        '{"name":"inner","type":{"name":"a.b.Inner","type":"record","fields":[{"name":"h","type":"c.Hash"}]}}]}',
    );
  });

  it('rejects a reference to an undefined name', () => {
    expect(() => parsingCanonicalForm({ type: 'array', items: 'Nowhere' })).toThrow('undefined type name: Nowhere');
  });
});

describe('our schemas', () => {
  const dir = locateSchemasDir();

  it.each(OUR_SCHEMAS)('%s has the fingerprint Java Avro computes', (file, javaFingerprint, wireHex) => {
    const schema = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as AvroSchemaJson;
    const fingerprint = crc64Avro(parsingCanonicalForm(schema)).toString('hex');
    expect(fingerprint).toBe(le(javaFingerprint));
    expect(fingerprint).toBe(wireHex);
  });
});
