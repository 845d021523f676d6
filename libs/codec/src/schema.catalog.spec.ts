import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { Type } from 'avsc';
import { afterAll, describe, expect, it } from '@jest/globals';
import { hasBoundedCollections } from './bounded-reads.guard.js';
import { ExactLongType } from './exact-integers.type.js';
import { locateSchemasDir, SCHEMAS_DIR_ENV, SchemaCatalog, SchemaCatalogError } from './schema.catalog.js';
import { sampleAlert } from './testing/alert.fixture.js';
import { removeDir, repoSchema, writeSchemaDir } from './testing/schema-dir.fixture.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function tempDir(files: Record<string, unknown>): string {
  const dir = writeSchemaDir(files);
  dirs.push(dir);
  return dir;
}

const tiny = (name: string, fields: unknown[] = [{ name: 'id', type: 'string' }]) => ({ type: 'record', name, namespace: 't', fields });

describe('locateSchemasDir', () => {
  it('finds the repository schemas/ walking up from the sources', () => {
    expect(locateSchemasDir({ env: {} })).toBe(join(repoRoot, 'schemas'));
  });

  it('finds it from the compiled dist/ tree too', () => {
    expect(locateSchemasDir({ env: {}, from: join(repoRoot, 'dist', 'libs', 'codec', 'src') })).toBe(join(repoRoot, 'schemas'));
    const root = tempDir({});
    const schemas = join(root, 'schemas');
    mkdirSync(schemas);
    mkdirSync(join(root, 'dist', 'libs', 'codec', 'src'), { recursive: true });
    tempDirFile(schemas);
    expect(locateSchemasDir({ env: {}, from: join(root, 'dist', 'libs', 'codec', 'src') })).toBe(schemas);
  });

  it('skips a schemas/ folder without .avsc files', () => {
    const root = tempDir({});
    mkdirSync(join(root, 'pkg', 'schemas'), { recursive: true });
    mkdirSync(join(root, 'schemas'));
    tempDirFile(join(root, 'schemas'));
    expect(locateSchemasDir({ env: {}, from: join(root, 'pkg') })).toBe(join(root, 'schemas'));
  });

  it(`prefers the dir option, then $${SCHEMAS_DIR_ENV}`, () => {
    const a = tempDir({ 'a.v1.avsc': tiny('A') });
    const b = tempDir({ 'b.v1.avsc': tiny('B') });
    expect(locateSchemasDir({ env: { [SCHEMAS_DIR_ENV]: a } })).toBe(a);
    expect(locateSchemasDir({ dir: b, env: { [SCHEMAS_DIR_ENV]: a } })).toBe(b);
  });

  it('names the setting when the directory does not exist', () => {
    expect(() => locateSchemasDir({ env: { [SCHEMAS_DIR_ENV]: '/nonexistent/schemas' } })).toThrow(SCHEMAS_DIR_ENV);
    expect(() => locateSchemasDir({ env: {}, from: '/' })).toThrow(SchemaCatalogError);
  });
});

function tempDirFile(dir: string): void {
  writeFileSync(join(dir, 'x.v1.avsc'), JSON.stringify(tiny('X')));
}

describe('SchemaCatalog', () => {
  const catalog = SchemaCatalog.default();

  it('loads our four records, newest version first in line', () => {
    expect(catalog.recordNames().sort()).toEqual(['Alert', 'AuditEvent', 'DeadLetter', 'Delivery']);
    expect(catalog.latest('Alert')).toMatchObject({ subject: 'alert', version: 1, fullName: 'org.backbone.alert.Alert' });
    expect(catalog.version('Delivery', 1).fullName).toBe('org.backbone.feed.Delivery');
    expect(() => catalog.latest('Nope')).toThrow(/known: /);
    expect(() => catalog.version('Alert', 9)).toThrow(SchemaCatalogError);
  });

  it('looks schemas up by fingerprint, as bytes or hex', () => {
    const alert = catalog.latest('Alert');
    expect(catalog.byFingerprint(alert.fingerprint)).toBe(alert);
    expect(catalog.byFingerprint('57A08A5B23BE629D')).toBe(alert);
    expect(catalog.byFingerprint(Buffer.alloc(8))).toBeUndefined();
  });

  it('uses bounded arrays and maps and exact longs everywhere', () => {
    for (const name of catalog.recordNames()) {
      const type = catalog.latest(name).type;
      expect(hasBoundedCollections(type)).toBe(true);
      expect(longsIn(type).every((t) => t instanceof ExactLongType)).toBe(true);
    }
    expect(longsIn(catalog.latest('DeadLetter').type)).toHaveLength(2); // sourceOffset, failedAt.
  });

  it('keeps one codec per record and version', () => {
    expect(catalog.codecFor('Alert')).toBe(catalog.codecFor('Alert'));
  });

  it('reads a version that changed only docs as the same schema', () => {
    const v1 = repoSchema('alert.v1');
    const docOnly = { ...v1, doc: 'Reworded.' };
    const twoVersions = SchemaCatalog.fromDirectory(tempDir({ 'alert.v1.avsc': v1, 'alert.v2.avsc': docOnly }));
    expect(twoVersions.latest('Alert').fingerprint.equals(twoVersions.version('Alert', 1).fingerprint)).toBe(true);
    expect(twoVersions.codecFor('Alert').decode(twoVersions.codecFor('Alert', { version: 1 }).encode(sampleAlert()))).toEqual(
      sampleAlert(),
    );
  });

  describe('refuses, naming the file', () => {
    it.each([
      ['a file not named <subject>.v<N>.avsc', { 'alert.avsc': tiny('A') }, /must be named <subject>\.v<N>\.avsc/],
      ['a version 0', { 'a.v0.avsc': tiny('A') }, /must be named/],
      ['invalid JSON', { 'a.v1.avsc': '{"type":' }, /not valid JSON/],
      ['a schema avsc rejects', { 'a.v1.avsc': tiny('A', [{ name: 'x', type: 'Nope' }]) }, /a\.v1\.avsc: undefined type name/],
      ['a top-level type that is not a record', { 'a.v1.avsc': { type: 'enum', name: 'E', symbols: ['A'] } }, /must be a record/],
      ['two subjects with one record name', { 'a.v1.avsc': tiny('Same'), 'b.v1.avsc': tiny('Same') }, /used by two subjects/],
      [
        'arrays whose items take no bytes',
        { 'a.v1.avsc': tiny('A', [{ name: 'x', type: { type: 'array', items: 'null' } }]) },
        /at least one byte/,
      ],
      ['an ambiguous union', { 'a.v1.avsc': tiny('A', [{ name: 'x', type: ['int', 'long'] }]) }, /ambiguous/],
    ])('%s', (_what, files, message) => {
      expect(() => SchemaCatalog.fromDirectory(tempDir(files))).toThrow(message);
    });
  });
});

function longsIn(root: Type): Type[] {
  const found: Type[] = [];
  const seen = new Set<Type>();
  const visit = (type: Type): void => {
    if (seen.has(type)) return;
    seen.add(type);
    const t = type as unknown as { fields?: { type: Type }[]; itemsType?: Type; valuesType?: Type; types?: Type[]; underlyingType?: Type };
    if (avro.Type.isType(type, 'long')) found.push(type);
    t.fields?.forEach((f) => visit(f.type));
    [t.itemsType, t.valuesType, t.underlyingType, ...(t.types ?? [])].forEach((c) => c && visit(c));
  };
  visit(root);
  return found;
}
