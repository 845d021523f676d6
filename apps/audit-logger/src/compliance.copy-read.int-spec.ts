import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { eventKeyId, eventKeyringOf, signAuditEvent, type AuditEvent, type EventSigningKey } from '@backbone/codec';
import { sampleAuditEvent } from '@backbone/codec/testing';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { generateSigningKey, provisionLedger, verifyLedger, type SigningKey } from '@backbone/ledger';
import { agencyRows, agencyView, csvLine, CSV_COLUMNS, exportChunks, type AgencyFilter, type ExportFormat } from './compliance.queries.js';
import { LedgerWriter } from './ledger.writer.js';

// Verify and export read the ledger through COPY text and decode it themselves. Rows full of what
// that format escapes (backslashes, tabs, newlines, \N, non-ASCII) must hash exactly as written
// and export exactly as the row-object path (pg-cursor, agencyView) shows them.

const NASTY = ['back\\slash', 'tab\there', 'new\nline\r\n', '\\N', 'naïve ✓ 日本 🚨', "O'Brien \\' E'x'", '\b\f\v\u0001', ''];

let db: TestDatabase;
let pool: pg.Pool;
let key: SigningKey;
let eventKey: EventSigningKey;

function events(): AuditEvent[] {
  const out: AuditEvent[] = [];
  NASTY.forEach((s, i) => {
    const decisions = [
      { agency: 'DE-NCB', outcome: 'ALLOW' as const, ruleId: `rule ${s}`, redactedGroups: [s, 'subject'], executionFlags: [] },
      { agency: 'FR-NCB', outcome: 'DENY' as const, ruleId: s, redactedGroups: [], executionFlags: [s] },
      // A second decision for the same agency: the export shows the first, as Array.find does.
      { agency: 'DE-NCB', outcome: 'DENY' as const, ruleId: 'second', redactedGroups: [], executionFlags: [] },
    ];
    const base = {
      eventId: randomUUID(),
      occurredAt: new Date(Date.UTC(2026, 10, 29, 5, 0, i, 7 * i)),
      actor: s,
      originator: i % 2 === 0 ? "O'Brien \\' E'x'" : s,
      noticeType: s,
      policyVersion: s,
      reason: i % 3 === 0 ? null : s,
      details: { [s]: s, plain: 'x' },
      payload: i % 2 === 0 ? Buffer.from(s, 'utf8') : null,
    };
    out.push(sampleAuditEvent({ ...base, type: 'DECIDED', service: 'policy-gate', decisions }));
    out.push(sampleAuditEvent({ ...base, eventId: randomUUID(), type: 'DELIVERED', service: 'agency-subscriber', agency: 'DE-NCB' }));
    out.push(
      signAuditEvent(sampleAuditEvent({ ...base, eventId: randomUUID(), type: 'DECIDED', service: 'policy-gate', decisions }), eventKey),
    );
  });
  return out;
}

beforeAll(async () => {
  key = generateSigningKey(join(mkdtempSync(join(tmpdir(), 'audit-copy-read-')), 'signing-key.pem'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  eventKey = { signer: 'policy-gate', keyId: eventKeyId(publicKey), privateKey };
  db = await createTestDatabase({ label: 'audit_copy_read' });
  pool = new pg.Pool({ connectionString: await provisionLedger(db.url), max: 3 });
  const writer = new LedgerWriter(pool, { signingKey: key, checkpointEveryRows: 5 });
  const all = events();
  for (let i = 0; i < all.length; i += 4) {
    await writer.append(
      'audit.events',
      0,
      all.slice(i, i + 4).map((event, j) => ({ offset: String(i + j), value: null, event })),
    );
  }
  await writer.checkpointNow();
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

/** The export as the row-object path built it: pg-cursor rows, agencyView, the same line formats. */
async function reference(f: AgencyFilter, format: ExportFormat): Promise<string> {
  let out = format === 'csv' ? CSV_COLUMNS.join(',') + '\r\n' : '';
  for await (const row of agencyRows(pool, f)) {
    const view = agencyView(row, f.agency);
    out += format === 'csv' ? csvLine(view) : JSON.stringify(view) + '\n';
  }
  return out;
}

async function exported(f: AgencyFilter, format: ExportFormat): Promise<string> {
  let out = '';
  for await (const chunk of exportChunks(pool, f, format)) out += chunk;
  return out;
}

describe('reading the ledger through COPY (real PostgreSQL)', () => {
  it('verifies rows full of escaped characters, signatures and payloads: every row hashes as written', async () => {
    const keyring = eventKeyringOf([
      { signer: 'policy-gate', publicKey: createPublicKey(eventKey.privateKey).export({ type: 'spki', format: 'pem' }).toString() },
    ]);
    const report = await verifyLedger(pool, new Map([[key.keyId, key.publicKey]]), { eventKeyring: keyring });
    // The unsigned rows are counted, not failed (they carry no signature to check).
    expect(report).toMatchObject({
      ok: true,
      rows: NASTY.length * 3,
      firstBreak: null,
      eventSignaturesVerified: NASTY.length,
      unsignedEvents: NASTY.length * 2,
    });
    expect(report.checkpointsVerified).toBe(report.checkpoints);
  });

  it('exports byte for byte what the row-object path exported, with filters that need escaping', async () => {
    const filters: AgencyFilter[] = [
      { agency: 'DE-NCB', since: new Date(0), until: new Date(8.64e15) },
      { agency: 'FR-NCB', since: new Date(Date.UTC(2026, 10, 29, 5, 0, 2)), until: new Date(Date.UTC(2026, 10, 29, 5, 0, 6)) },
      { agency: 'DE-NCB', since: new Date(0), until: new Date(8.64e15), types: ['DELIVERED', "X'Y"], noticeType: NASTY[1]! },
      { agency: 'DE-NCB', since: new Date(0), until: new Date(8.64e15), originator: "O'Brien \\' E'x'" },
      { agency: "NO'NE", since: new Date(0), until: new Date(8.64e15) },
    ];
    for (const f of filters) {
      for (const format of ['ndjson', 'csv'] as const) {
        const want = await reference(f, format);
        expect(await exported(f, format)).toBe(want);
      }
    }
    // The filters did select something (and the first one everything about DE-NCB).
    expect((await reference(filters[0]!, 'ndjson')).split('\n').length - 1).toBe(NASTY.length * 3);
    expect((await reference(filters[2]!, 'ndjson')).split('\n').length - 1).toBe(1);
    const byOriginator = NASTY.filter((s, i) => i % 2 === 0 || s === filters[3]!.originator).length * 3;
    expect((await reference(filters[3]!, 'ndjson')).split('\n').length - 1).toBe(byOriginator);
  });
});
