import { describe, expect, it } from '@jest/globals';
import { databaseNameOf, redactDatabaseUrl, withDatabase } from './database-url.js';
import { schemaNameFor } from './database.admin.js';
import { assertIdentifier, quoteTableName } from './sql-identifier.js';

describe('database URLs', () => {
  it('swaps the database and keeps credentials and parameters', () => {
    expect(withDatabase('postgres://u:p@h:5432/postgres?sslmode=require', 'backbone')).toBe(
      'postgres://u:p@h:5432/backbone?sslmode=require',
    );
    expect(databaseNameOf('postgres://u@h/backbone_publisher')).toBe('backbone_publisher');
  });

  it('redacts passwords, including ones passed as parameters', () => {
    expect(redactDatabaseUrl('postgres://u:p%40ss@h/db?password=x')).toBe('postgres://u:***@h/db?password=***');
    expect(redactDatabaseUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redactDatabaseUrl('::garbage::')).toBe('<unparseable URL>');
  });
});

describe('identifiers', () => {
  it('derives per-service and per-agency schema names', () => {
    expect(schemaNameFor('notice-publisher')).toBe('notice_publisher');
    expect(schemaNameFor('subscriber', 'FR-NCB')).toBe('subscriber_fr_ncb');
    expect(schemaNameFor('audit')).toBe('audit');
    expect(schemaNameFor('1st')).toBe('s_1st');
    expect(() => schemaNameFor('x'.repeat(70))).toThrow(/Invalid schema name/);
  });

  it('accepts only plain lower-case identifiers of at most 63 bytes', () => {
    expect(assertIdentifier('backbone_subscriber_fr_ncb', 'database name')).toBe('backbone_subscriber_fr_ncb');
    for (const bad of ['', 'Backbone', 'a-b', '9x', 'a'.repeat(64), 'x;drop']) {
      expect(() => assertIdentifier(bad, 'database name')).toThrow(/Invalid database name/);
    }
    expect(quoteTableName('audit.ledger')).toBe('"audit"."ledger"');
  });
});
