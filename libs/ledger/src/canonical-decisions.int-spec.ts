import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import pg from 'pg';
import type { AuditEvent } from '@backbone/codec';
import { canonicalDecisionArbitrary, sampleAuditEvent } from '@backbone/codec/testing';
import { createTestDatabase, resolveDatabase, streamCopyRows, type TestDatabase } from '@backbone/persistence';
import { canonicalDecisions, canonicalText, canonicalTextWithDecisions, type LedgerEntry } from './canonical-event.serializer.js';

// Verify hashes a row's decisions from PostgreSQL's text of the jsonb column without parsing it.
// Whatever PostgreSQL stores and writes back, that text must hash exactly as the parsed objects do,
// or not be taken (null: the caller parses). Checked on the real jsonb output, not on a model of it.

const baseUrl = process.env.DATABASE_URL ?? (await resolveDatabase()).url;

// Every character jsonb or JSON.stringify escapes, separators that could fool a tokenizer, non-ASCII.
const nastyChar = fc.constantFrom(
  '"',
  '\\',
  '\b',
  '\f',
  '\n',
  '\r',
  '\t',
  '\u0001',
  '\u000b',
  '\u001f',
  '\u007f',
  'é',
  '🚨',
  '\u2028',
  ', ',
  '": "',
  '/',
  '], [',
  '}',
);
const text = fc.string({ unit: fc.oneof(nastyChar, fc.string({ unit: 'grapheme', maxLength: 1 })), maxLength: 12 });
const decision = canonicalDecisionArbitrary(text);
// Shapes the fast path must refuse (null) or, if it takes them, hash identically.
const odd = fc.oneof(
  fc.record({ agency: text, outcome: text, ruleId: text, redactedGroups: fc.array(text), executionFlags: fc.array(text), extra: text }),
  fc.record({ agency: fc.integer(), outcome: text, ruleId: text, redactedGroups: fc.array(text), executionFlags: fc.array(text) }),
  fc.record({ agency: text, outcome: text, ruleId: text, redactedGroups: fc.array(fc.integer()), executionFlags: fc.array(text) }),
  fc.record({ agency: text, outcome: text }),
  fc.constant(null),
  text,
);

function entryWith(decisions: unknown): LedgerEntry {
  const event: AuditEvent = sampleAuditEvent({ type: 'DECIDED', decisions: decisions as AuditEvent['decisions'] });
  return { seq: '1', topic: 'audit.events', partition: 0, offset: '0', recordedAt: new Date(1_764_000_000_000), event };
}

describe('canonicalDecisions on real jsonb output', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase({ baseUrl, label: 'canon_decisions' });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await pool.query('CREATE TABLE d (id int PRIMARY KEY, decisions jsonb NOT NULL)');
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('gives the text the parsed decisions hash to, for the gate shape (always taken) and any other (property)', async () => {
    const cases = fc.sample(
      fc.oneof(fc.array(decision, { maxLength: 4 }), fc.array(fc.oneof(decision, odd), { minLength: 1, maxLength: 3 })),
      {
        numRuns: 600,
        seed: 14,
      },
    );
    const wellShaped = fc.sample(fc.array(decision, { maxLength: 4 }), { numRuns: 300, seed: 15 });
    const all = [...cases, ...wellShaped, [{ agency: 'A', outcome: 'ALLOW', ruleId: 'r', redactedGroups: [], executionFlags: [] }]];
    for (const [i, value] of all.entries()) await pool.query('INSERT INTO d VALUES ($1, $2)', [i, JSON.stringify(value)]);
    let taken = 0;
    for await (const rows of streamCopyRows(pool, 'SELECT id, decisions FROM d ORDER BY id', { columns: 2 })) {
      for (const [id, stored] of rows) {
        const parsed: unknown = JSON.parse(stored!);
        const known = canonicalDecisions(stored!);
        const i = Number(id);
        if (i >= cases.length) expect(known).not.toBeNull();
        if (known === null) continue;
        taken++;
        // Hashing from the known text and from the parsed objects gives the same bytes.
        expect(canonicalTextWithDecisions(entryWith([]), known)).toBe(canonicalText(entryWith(parsed)));
      }
    }
    expect(taken).toBeGreaterThanOrEqual(wellShaped.length + 1);
  });

  it('refuses what is not an array of gate-shaped decisions', () => {
    expect(canonicalDecisions('[]')).toBe('');
    expect(canonicalDecisions('{}')).toBeNull();
    expect(
      canonicalDecisions('[{"agency": "A", "ruleId": "r", "outcome": "ALLOW", "executionFlags": [], "redactedGroups": []} ]'),
    ).toBeNull();
    expect(
      canonicalDecisions('[{"agency": "A", "ruleId": "r", "outcome": "ALLOW", "executionFlags": [1], "redactedGroups": []}]'),
    ).toBeNull();
    expect(
      canonicalDecisions('[{"agency": "\\u0008", "ruleId": "r", "outcome": "ALLOW", "executionFlags": [], "redactedGroups": []}]'),
    ).toBeNull();
    expect(
      canonicalDecisions('[{"agency": "A", "ruleId": "r", "outcome": "ALLOW", "executionFlags": ["x"], "redactedGroups": ["y", "z"]}]'),
    ).toBe('{"agency":"A","executionFlags":["x"],"outcome":"ALLOW","redactedGroups":["y","z"],"ruleId":"r"}');
  });
});
