// Temporary schema directories for catalog and evolution tests.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AvroSchemaJson } from '../canonical-form.schema.js';
import { locateSchemasDir } from '../schema.catalog.js';

export interface RecordSchemaJson {
  readonly type: 'record';
  readonly name: string;
  readonly namespace?: string;
  readonly fields: readonly FieldJson[];
  readonly [key: string]: unknown;
}

export interface FieldJson {
  readonly name: string;
  readonly type: AvroSchemaJson;
  readonly default?: unknown;
  readonly [key: string]: unknown;
}

/** A fresh copy of one of the repository's schemas, e.g. `alert.v1`. */
export function repoSchema(fileStem: string): RecordSchemaJson {
  return JSON.parse(readFileSync(join(locateSchemasDir(), `${fileStem}.avsc`), 'utf8')) as RecordSchemaJson;
}

/** Writes `{ 'alert.v2.avsc': schema, … }` to a new temporary directory and returns its path. */
export function writeSchemaDir(files: Readonly<Record<string, unknown>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'backbone-schemas-'));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
