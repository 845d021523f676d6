import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { issueToken, tokenId, tokenMatches } from '@backbone/auth';
import { sqlAffected } from '@backbone/persistence';
import { normaliseDeskFilter, type DeskFilter, type DeskFilterInput } from './desk.filter.js';

export interface Desk {
  deskId: string;
  name: string;
  filter: DeskFilter;
  tokenId: string;
  createdAt: Date;
}

export interface CreatedDesk {
  desk: Desk;
  /** The bearer token, shown once: only its hash is stored. */
  token: string;
}

export class DeskExistsError extends Error {
  constructor(name: string) {
    super(`a desk named ${name} already exists`);
    this.name = 'DeskExistsError';
  }
}

interface DeskRow {
  desk_id: string;
  name: string;
  filter: DeskFilter;
  token_id: string;
  token_hash: string;
  created_at: Date;
}

const DESK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const UNIQUE_VIOLATION = '23505';

export function assertDeskName(name: string): void {
  if (!DESK_NAME.test(name))
    throw new Error('desk name must be 1-64 characters: letters, digits, . _ - (not starting with a punctuation mark)');
}

/** The agency's desks and their token hashes. The table lives in the agency's schema: the token store is per agency. */
export class DeskStore {
  constructor(private readonly db: DataSource) {}

  async create(name: string, filterInput: DeskFilterInput): Promise<CreatedDesk> {
    assertDeskName(name);
    const filter = normaliseDeskFilter(filterInput);
    const issued = issueToken();
    const deskId = randomUUID();
    try {
      const rows = (await this.db.query(
        `INSERT INTO desks (desk_id, name, filter, token_id, token_hash) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [deskId, name, JSON.stringify(filter), issued.id, issued.hash],
      )) as DeskRow[];
      return { desk: toDesk(rows[0]!), token: issued.token };
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new DeskExistsError(name);
      throw err;
    }
  }

  async list(): Promise<Desk[]> {
    const rows = (await this.db.query(`SELECT * FROM desks ORDER BY name`)) as DeskRow[];
    return rows.map(toDesk);
  }

  async find(nameOrId: string): Promise<Desk | null> {
    const rows = (await this.db.query(`SELECT * FROM desks WHERE name = $1 OR desk_id::text = $1`, [nameOrId])) as DeskRow[];
    return rows[0] ? toDesk(rows[0]) : null;
  }

  /** Removes the desk and with it its token and acknowledgements; true when there was one. */
  async remove(nameOrId: string): Promise<boolean> {
    return (await sqlAffected(this.db, `DELETE FROM desks WHERE name = $1 OR desk_id::text = $1`, [nameOrId])) > 0;
  }

  /** The desk a bearer token belongs to, or null: malformed, unknown (e.g. another agency's) or wrong secret. */
  async authenticate(token: string): Promise<Desk | null> {
    const id = tokenId(token);
    if (!id) return null;
    const rows = (await this.db.query(`SELECT * FROM desks WHERE token_id = $1`, [id])) as DeskRow[];
    const row = rows[0];
    if (!row || !tokenMatches(token, row.token_hash)) return null;
    return toDesk(row);
  }
}

function toDesk(row: DeskRow): Desk {
  return { deskId: row.desk_id, name: row.name, filter: row.filter, tokenId: row.token_id, createdAt: new Date(row.created_at) };
}
