import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.factory.js';
import { sqlAffected, sqlRows } from './sql.query.js';
import { createTestDatabase, type TestDatabase } from './test-database.factory.js';

describe('sqlRows / sqlAffected (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase({ label: 'sql_query' });
    ds = createDataSource({ url: db.url, poolSize: 2 });
    await ds.initialize();
    await ds.query('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  it('gives the rows of every kind of statement, never [rows, count]', async () => {
    expect(await sqlRows<{ id: number }>(ds, 'INSERT INTO notes VALUES (1, $1), (2, $1) RETURNING id', ['a'])).toEqual([
      { id: 1 },
      { id: 2 },
    ]);
    expect(await sqlRows<{ id: number }>(ds, 'UPDATE notes SET body = $1 WHERE id = 1 RETURNING id', ['b'])).toEqual([{ id: 1 }]);
    expect(await sqlRows<{ body: string }>(ds, 'SELECT body FROM notes ORDER BY id')).toEqual([{ body: 'b' }, { body: 'a' }]);
    expect(await sqlRows<{ id: number }>(ds, 'DELETE FROM notes WHERE id = 2 RETURNING id')).toEqual([{ id: 2 }]);
  });

  it('counts affected rows, also inside a transaction', async () => {
    expect(await sqlAffected(ds, 'UPDATE notes SET body = body WHERE id = 99')).toBe(0);
    await ds.transaction(async (m) => {
      expect(await sqlAffected(m, 'INSERT INTO notes VALUES (3, $1), (4, $1)', ['c'])).toBe(2);
      expect(await sqlRows<{ n: number }>(m, 'SELECT count(*)::int AS n FROM notes')).toEqual([{ n: 3 }]);
    });
    expect(await sqlAffected(ds, 'DELETE FROM notes WHERE body = $1', ['c'])).toBe(2);
  });
});
