import type { EntityManager, QueryRunner } from 'typeorm';
import { quoteIdentifier, quoteTableName } from './sql-identifier.js';

/** The PostgreSQL wire protocol counts bind parameters in an Int16: one statement takes at most 65,535. */
export const MAX_BIND_PARAMETERS = 65_535;

export type InsertRow = readonly unknown[] | Readonly<Record<string, unknown>>;

export interface InsertChunkedOptions {
  /** Conflict target columns for ON CONFLICT (...) DO NOTHING; `[]` ignores a conflict on any constraint. */
  readonly onConflictDoNothing?: readonly string[];
  /** Lower the per-statement parameter budget (tests, or to keep statements small). */
  readonly maxParameters?: number;
}

export interface InsertChunkedResult {
  /** Rows actually inserted (rows skipped by ON CONFLICT DO NOTHING are not counted). */
  readonly inserted: number;
  readonly statements: number;
}

export function rowsPerStatement(columnCount: number, maxParameters = MAX_BIND_PARAMETERS): number {
  if (!Number.isInteger(columnCount) || columnCount < 1) throw new Error(`Column count must be a positive integer, got ${columnCount}`);
  if (!Number.isInteger(maxParameters) || maxParameters > MAX_BIND_PARAMETERS || maxParameters < 1) {
    throw new Error(`maxParameters must be an integer from 1 to ${MAX_BIND_PARAMETERS}, got ${maxParameters}`);
  }
  const rows = Math.floor(maxParameters / columnCount);
  if (rows < 1) throw new Error(`${columnCount} columns do not fit in ${maxParameters} bind parameters`);
  return rows;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `INSERT INTO "t" ("a","b") VALUES ($1,$2),($3,$4) [ON CONFLICT ("a") DO NOTHING]` for `rowCount` rows. */
export function buildInsertSql(
  table: string,
  columns: readonly string[],
  rowCount: number,
  onConflictDoNothing?: readonly string[],
): string {
  if (columns.length === 0) throw new Error('insertChunked needs at least one column');
  if (new Set(columns).size !== columns.length) throw new Error(`Duplicate column in [${columns.join(', ')}]`);
  const tuples: string[] = [];
  for (let r = 0; r < rowCount; r++) {
    const base = r * columns.length;
    tuples.push(`(${columns.map((_, c) => `$${base + c + 1}`).join(',')})`);
  }
  let sql = `INSERT INTO ${quoteTableName(table)} (${columns.map(quoteIdentifier).join(',')}) VALUES ${tuples.join(',')}`;
  if (onConflictDoNothing !== undefined) {
    const target = onConflictDoNothing.length ? ` (${onConflictDoNothing.map(quoteIdentifier).join(',')})` : '';
    sql += ` ON CONFLICT${target} DO NOTHING`;
  }
  return sql;
}

export function flattenRows(columns: readonly string[], rows: readonly InsertRow[]): unknown[] {
  const params: unknown[] = [];
  rows.forEach((row, i) => {
    if (Array.isArray(row)) {
      if (row.length !== columns.length) {
        throw new Error(`Row ${i} has ${row.length} values for ${columns.length} columns`);
      }
      params.push(...row);
    } else {
      const record = row as Readonly<Record<string, unknown>>;
      // pg sends undefined as NULL; being explicit keeps the two row shapes equivalent.
      for (const column of columns) params.push(record[column] ?? null);
    }
  });
  return params;
}

/**
 * Multi-row INSERT in as few statements as the bind-parameter limit allows:
 * floor(65535 / columns.length) rows each. Not atomic by itself: pass a QueryRunner inside a
 * transaction (or an EntityManager from `dataSource.transaction`) to make all chunks commit together.
 */
export async function insertChunked(
  target: QueryRunner | EntityManager,
  table: string,
  columns: readonly string[],
  rows: readonly InsertRow[],
  options: InsertChunkedOptions = {},
): Promise<InsertChunkedResult> {
  const size = rowsPerStatement(columns.length, options.maxParameters);
  if (rows.length === 0) return { inserted: 0, statements: 0 };
  // Every full chunk shares one SQL text; only the last chunk may need its own. Building the
  // first one here also validates the names before we touch the database.
  const sqlByRowCount = new Map<number, string>();
  const sqlFor = (rowCount: number): string => {
    let sql = sqlByRowCount.get(rowCount);
    if (sql === undefined) {
      sql = buildInsertSql(table, columns, rowCount, options.onConflictDoNothing);
      sqlByRowCount.set(rowCount, sql);
    }
    return sql;
  };
  sqlFor(Math.min(size, rows.length));
  const { runner, release } = queryRunnerOf(target);
  try {
    let inserted = 0;
    let statements = 0;
    for (const part of chunk(rows, size)) {
      const result = await runner.query(sqlFor(part.length), flattenRows(columns, part), true);
      inserted += result.affected ?? 0;
      statements++;
    }
    return { inserted, statements };
  } finally {
    await release();
  }
}

function queryRunnerOf(target: QueryRunner | EntityManager): { runner: QueryRunner; release: () => Promise<void> } {
  // A QueryRunner is the only one of the two with `isReleased`.
  if ('isReleased' in target) return { runner: target, release: async () => undefined };
  if (target.queryRunner) return { runner: target.queryRunner, release: async () => undefined };
  // A plain (non-transactional) manager: borrow a pooled connection for the duration.
  const runner = target.connection.createQueryRunner();
  return { runner, release: () => runner.release() };
}
