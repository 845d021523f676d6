// Schemas evolve compatibly: a newer reader reads older writers and an older reader reads
// newer writers (ARCHITECTURE.md, "Contracts"). These tests build a v2 of the real alert
// schema both ways and prove it through the codec, not only through avsc's resolver.
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Alert } from './alert.types.js';
import { CodecError } from './codec.error.js';
import { alertCodec, auditEventCodec, codecFor } from './record.codecs.js';
import type { AuditEvent } from './delivery.types.js';
import { SchemaCatalog, SchemaCatalogError } from './schema.catalog.js';
import { sampleAlert, sampleAuditEvent, sampleFullAlert } from './testing/alert.fixture.js';
import { removeDir, repoSchema, writeSchemaDir, type FieldJson, type RecordSchemaJson } from './testing/schema-dir.fixture.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function catalogOf(files: Record<string, unknown>): SchemaCatalog {
  const dir = writeSchemaDir(files);
  dirs.push(dir);
  return SchemaCatalog.fromDirectory(dir);
}

const v1 = repoSchema('alert.v1');

/** v2 adds an optional field with a default. */
const withCaseReference: RecordSchemaJson = {
  ...v1,
  fields: [...v1.fields, { name: 'caseReference', type: ['null', 'string'], default: null, doc: 'Originator case number.' }],
};

/** v2 removes optional fields, one at the top and one nested group holding arrays. */
const withoutOptionalFields: RecordSchemaJson = {
  ...v1,
  fields: v1.fields
    .filter((f) => f.name !== 'exerciseId')
    .map((f): FieldJson => {
      if (f.name !== 'subject') return f;
      const [nullBranch, subject] = f.type as [string, RecordSchemaJson];
      return { ...f, type: [nullBranch, { ...subject, fields: subject.fields.filter((s) => s.name !== 'biometrics') }] };
    }),
};

type AlertWithCase = Alert & { caseReference: string | null };

describe('adding an optional field with a default (alert v2 = v1 + caseReference)', () => {
  const catalog = catalogOf({ 'alert.v1.avsc': v1, 'alert.v2.avsc': withCaseReference });
  const newer = catalog.codecFor<AlertWithCase>('Alert');
  const older = catalog.codecFor<Alert>('Alert', { version: 1 });

  it('writes the newest version by default, and the pinned one when asked', () => {
    expect(newer.schemaVersion).toBe(2);
    expect(older.schemaVersion).toBe(1);
    expect(newer.fingerprint.equals(older.fingerprint)).toBe(false);
    expect(older.fingerprint.equals(alertCodec.fingerprint)).toBe(true);
  });

  it('the newer reader reads what the older writer wrote, with the default', () => {
    expect(newer.decode(older.encode(sampleFullAlert()))).toEqual({ ...sampleFullAlert(), caseReference: null });
    // Records on Kafka written by today's codec stay readable after the upgrade.
    expect(newer.decode(alertCodec.encode(sampleAlert()))).toEqual({ ...sampleAlert(), caseReference: null });
  });

  it('the older reader reads what the newer writer wrote, without the new field', () => {
    const decoded = older.decode(newer.encode({ ...sampleFullAlert(), caseReference: 'FR/2025/0042' }));
    expect(decoded).toEqual(sampleFullAlert());
    expect(decoded).not.toHaveProperty('caseReference');
  });

  it('a reader without the v2 schema file cannot read v2 records: UNKNOWN_FINGERPRINT (ship schemas first)', () => {
    const bytes = newer.encode({ ...sampleAlert(), caseReference: 'x' });
    const err = (() => {
      try {
        alertCodec.decode(bytes);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(CodecError);
    expect((err as CodecError).reason).toBe('UNKNOWN_FINGERPRINT');
  });
});

describe('removing optional fields (alert v2 = v1 - exerciseId - subject.biometrics)', () => {
  const catalog = catalogOf({ 'alert.v1.avsc': v1, 'alert.v2.avsc': withoutOptionalFields });
  type AlertV2 = Omit<Alert, 'exerciseId' | 'subject'> & { subject: Omit<NonNullable<Alert['subject']>, 'biometrics'> | null };
  const newer = catalog.codecFor<AlertV2>('Alert');
  const older = catalog.codecFor<Alert>('Alert', { version: 1 });

  function asV2(alert: Alert): AlertV2 {
    const { exerciseId: _e, subject, ...rest } = alert;
    if (subject === null) return { ...rest, subject: null };
    const { biometrics: _b, ...subjectRest } = subject;
    return { ...rest, subject: subjectRest };
  }

  it('the newer reader reads the older writer, skipping the removed fields', () => {
    const full = sampleFullAlert();
    expect(full.exerciseId).not.toBeNull();
    expect(full.subject?.biometrics).not.toBeNull();
    const decoded = newer.decode(older.encode(full));
    expect(decoded).toEqual(asV2(full));
    expect(decoded).not.toHaveProperty('exerciseId');
    expect(decoded.subject).not.toHaveProperty('biometrics');
  });

  it('the older reader reads the newer writer, filling the removed fields with their defaults', () => {
    const full = sampleFullAlert();
    const decoded = older.decode(newer.encode(asV2(full)));
    expect(decoded).toEqual({ ...full, exerciseId: null, subject: { ...full.subject, biometrics: null } });
  });
});

describe('adding an enum symbol where the enum has a default (Urgency + Critical)', () => {
  const withCritical: RecordSchemaJson = {
    ...v1,
    fields: v1.fields.map((f): FieldJson => {
      if (f.name !== 'urgency') return f;
      const urgency = f.type as { symbols: string[] };
      return { ...f, type: { ...urgency, symbols: [...urgency.symbols, 'Critical'] } };
    }),
  };
  const catalog = catalogOf({ 'alert.v1.avsc': v1, 'alert.v2.avsc': withCritical });
  const newer = catalog.codecFor<Omit<Alert, 'urgency'> & { urgency: Alert['urgency'] | 'Critical' }>('Alert');
  const older = catalog.codecFor<Alert>('Alert', { version: 1 });

  it('the older reader reads the new symbol as the default, Unknown', () => {
    expect(older.decode(newer.encode({ ...sampleAlert(), urgency: 'Critical' })).urgency).toBe('Unknown');
    expect(older.decode(newer.encode({ ...sampleAlert(), urgency: 'Immediate' })).urgency).toBe('Immediate');
  });

  it('the newer reader reads the old symbols unchanged', () => {
    expect(newer.decode(older.encode(sampleAlert({ urgency: 'Past' }))).urgency).toBe('Past');
  });
});

describe('incompatible changes are refused when the catalog loads', () => {
  it('a new field without a default', () => {
    const breaking = { ...v1, fields: [...v1.fields, { name: 'mandatory', type: 'string' }] };
    expect(() => catalogOf({ 'alert.v1.avsc': v1, 'alert.v2.avsc': breaking })).toThrow(SchemaCatalogError);
    expect(() => catalogOf({ 'alert.v1.avsc': v1, 'alert.v2.avsc': breaking })).toThrow(/no matching field for default-less/);
  });

  it('a renamed record', () => {
    const renamed = { ...v1, name: 'Notice' };
    expect(() => catalogOf({ 'alert.v1.avsc': v1, 'alert.v2.avsc': renamed })).toThrow(/disagree on the record name/);
  });
});

describe('the repository schemas', () => {
  // Both directions for every pair of versions: what CI must prove before a schema lands.
  const catalog = SchemaCatalog.default();
  const pairs = catalog
    .recordNames()
    .flatMap((name) => catalog.versions(name).flatMap((writer) => catalog.versions(name).map((reader) => ({ name, writer, reader }))));

  it.each(pairs)('$name v$writer.version is readable as v$reader.version', ({ writer, reader }) => {
    expect(() => reader.type.createResolver(writer.type)).not.toThrow();
  });

  it('codecFor reads every older version through the newest', () => {
    for (const name of ['Alert', 'Delivery', 'AuditEvent', 'DeadLetter'] as const) {
      expect(codecFor(name).schemaVersion).toBe(catalog.latest(name).version);
    }
  });
});

describe('audit event v2 (v1 + signature) in the repository schemas', () => {
  const v1Codec = codecFor('AuditEvent', { version: 1 });
  const signed = { ...sampleAuditEvent(), signature: { signer: 'policy-gate', keyId: '0123456789abcdef', value: Buffer.alloc(64, 7) } };

  it('reads events written before signatures existed, with signature null', () => {
    const { signature: _dropped, ...v1Event } = sampleAuditEvent();
    expect(auditEventCodec.decode(v1Codec.encode(v1Event as AuditEvent))).toEqual(sampleAuditEvent());
  });

  it('an older reader still reads a signed event (without the signature)', () => {
    const { signature: _dropped, ...rest } = signed;
    expect(v1Codec.decode(auditEventCodec.encode(signed))).toEqual(rest);
    expect(auditEventCodec.decode(auditEventCodec.encode(signed))).toEqual(signed);
  });
});
