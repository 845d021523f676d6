export { PersistenceConfig, PERSISTENCE_SETTINGS, type PersistenceSetting } from './persistence.config.js';
export {
  resolveDatabase,
  ensureDatabase,
  DEFAULT_DATABASE,
  DEFAULT_LOCAL_URL,
  type DatabaseSource,
  type ResolvedDatabase,
  type ResolveDatabaseOptions,
} from './database.resolver.js';
// The single definition of the state folder lives with the broker harness; re-exported for callers here.
export { backboneHome } from '@backbone/workspace';
export { createDatabaseIfMissing, dropDatabase, createSchemaIfMissing, schemaNameFor } from './database.admin.js';
export { createTestDatabase, type TestDatabase } from './test-database.factory.js';
export { createDataSource, runMigrations, type CreateDataSourceOptions } from './data-source.factory.js';
export {
  insertChunked,
  rowsPerStatement,
  MAX_BIND_PARAMETERS,
  type InsertRow,
  type InsertChunkedOptions,
  type InsertChunkedResult,
} from './chunked-insert.js';
export { pingDatabase, type PingResult } from './database.ping.js';
export { createAppendOnlyRole, type AppendOnlyOptions, type SqlQueryable } from './append-only.grants.js';
export { parseDatabaseUrl, redactDatabaseUrl, withDatabase, databaseNameOf } from './database-url.js';
export { sqlRows, sqlAffected, type SqlTarget } from './sql.query.js';
export { scramSha256Verifier, setRolePasswordSql, SCRAM_ITERATIONS } from './scram-verifier.js';
export { copyTextLine, copyTextValue } from './copy-text.encoder.js';
export { CopyTextDecoder, streamCopyRows, type CopyField, type CopyRowsOptions } from './copy-text.decoder.js';
export { streamRows, type RowStreamOptions } from './row-stream.js';
export { StatementBatcher } from './statement.batcher.js';
