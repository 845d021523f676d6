import { EntityManager, type DataSource, type QueryRunner } from 'typeorm';

// The one way services run raw SQL on their TypeORM DataSource (docs/development.md, "Data
// access"). TypeORM's plain query() answers in a shape that depends on the statement (rows for a
// SELECT, [rows, count] for UPDATE/DELETE ... RETURNING); its structured form always gives the rows
// (`records`) and the affected count, so callers never guess.

/** A DataSource (a pooled connection per call) or a transaction's EntityManager (its connection). */
export type SqlTarget = DataSource | EntityManager;

async function structured(
  db: SqlTarget,
  text: string,
  params: readonly unknown[],
): Promise<{ records: unknown[]; affected?: number | undefined }> {
  const inTransaction: QueryRunner | undefined = db instanceof EntityManager ? db.queryRunner : undefined;
  if (inTransaction) return inTransaction.query(text, [...params], true);
  const runner = (db instanceof EntityManager ? db.dataSource : db).createQueryRunner();
  try {
    return await runner.query(text, [...params], true);
  } finally {
    await runner.release();
  }
}

/** The rows a statement returns (SELECT, or INSERT/UPDATE/DELETE ... RETURNING), typed by the caller. */
export async function sqlRows<T>(db: SqlTarget, text: string, params: readonly unknown[] = []): Promise<T[]> {
  return (await structured(db, text, params)).records as T[];
}

/** How many rows a statement inserted, updated or deleted. */
export async function sqlAffected(db: SqlTarget, text: string, params: readonly unknown[] = []): Promise<number> {
  return (await structured(db, text, params)).affected ?? 0;
}
