import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { AddExampleNoteUniqueBody1732500001000, CreateExampleNotes1732500000000 } from '../test/fixtures/create-example-notes.migration.js';
import { ExampleNote } from '../test/fixtures/example-note.entity.js';
import { createDataSource, runMigrations } from './data-source.factory.js';
import { resolveDatabase } from './database.resolver.js';
import { createTestDatabase, type TestDatabase } from './test-database.factory.js';

const baseUrl = process.env.DATABASE_URL ?? (await resolveDatabase()).url;
const MIGRATIONS = [AddExampleNoteUniqueBody1732500001000, CreateExampleNotes1732500000000]; // order given does not matter

describe('migrations', () => {
  let db: TestDatabase;
  const open: DataSource[] = [];
  const dataSource = async (schema: string): Promise<DataSource> => {
    const ds = createDataSource({ url: db.url, schema, entities: [ExampleNote], migrations: MIGRATIONS, poolSize: 2 });
    await ds.initialize();
    open.push(ds);
    return ds;
  };

  beforeAll(async () => {
    db = await createTestDatabase({ baseUrl, label: 'migrations' });
  });
  afterAll(async () => {
    for (const ds of open) if (ds.isInitialized) await ds.destroy();
    await db.drop();
  });

  it('creates the schema, runs pending migrations in order and records them', async () => {
    const ds = await dataSource('publisher');
    expect(await runMigrations(ds)).toEqual(['CreateExampleNotes1732500000000', 'AddExampleNoteUniqueBody1732500001000']);
    const recorded = (await ds.query('SELECT name FROM publisher.migrations ORDER BY id')) as Array<{ name: string }>;
    expect(recorded.map((r) => r.name)).toEqual(['CreateExampleNotes1732500000000', 'AddExampleNoteUniqueBody1732500001000']);
    const tables = (await ds.query(`SELECT schemaname FROM pg_tables WHERE tablename = 'example_note'`)) as Array<{ schemaname: string }>;
    expect(tables).toEqual([{ schemaname: 'publisher' }]);
  });

  it('re-running is a no-op, from the same or a new data source', async () => {
    const ds = await dataSource('publisher');
    expect(await runMigrations(ds)).toEqual([]);
    expect(await runMigrations(ds)).toEqual([]);
    const [count] = (await ds.query('SELECT count(*)::int AS n FROM publisher.migrations')) as Array<{ n: number }>;
    expect(count?.n).toBe(2);
  });

  it('entities read and write in the service schema', async () => {
    const ds = await dataSource('publisher');
    const notes = ds.getRepository(ExampleNote);
    const saved = await notes.save(notes.create({ agency: 'FR-NCB', body: 'hello' }));
    expect(saved.id).toBeDefined();
    expect(await notes.findOneByOrFail({ id: saved.id })).toMatchObject({ agency: 'FR-NCB', body: 'hello' });
    const [row] = (await ds.query('SELECT count(*)::int AS n FROM publisher.example_note')) as Array<{ n: number }>;
    expect(row?.n).toBe(1);
  });

  it('keeps each service schema independent, and concurrent runners apply a migration once', async () => {
    const [a, b, c] = await Promise.all([
      dataSource('subscriber_fr_ncb'),
      dataSource('subscriber_fr_ncb'),
      dataSource('subscriber_fr_ncb'),
    ]);
    const runs = await Promise.all([a, b, c].map((ds) => runMigrations(ds)));
    expect(runs.flat().sort()).toEqual(['AddExampleNoteUniqueBody1732500001000', 'CreateExampleNotes1732500000000']);
    const [count] = (await a.query('SELECT count(*)::int AS n FROM subscriber_fr_ncb.example_note')) as Array<{ n: number }>;
    expect(count?.n).toBe(0);
  });
});
