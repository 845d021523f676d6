/**
 * DATABASE_URL handling. The URL may carry a password, so nothing here ever echoes it: errors and
 * log lines use {@link redactDatabaseUrl}.
 */

export function parseDatabaseUrl(value: string, setting = 'DATABASE_URL'): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`Invalid setting ${setting}: not a URL (expected postgres://user@host:5432/database)`);
  }
  const shown = redactDatabaseUrl(value);
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`Invalid setting ${setting}: scheme must be postgres:// or postgresql://, got ${shown}`);
  }
  // A socket directory may stand in for the host: postgres:///db?host=/var/run/postgresql
  if (url.hostname === '' && !url.searchParams.get('host')) {
    throw new Error(`Invalid setting ${setting}: no host in ${shown}`);
  }
  const database = databaseNameOf(url);
  if (database === '') {
    // pg would silently fall back to a database named after the user; failing is clearer.
    throw new Error(`Invalid setting ${setting}: no database name in ${shown} (expected .../<database>)`);
  }
  return url;
}

export function databaseNameOf(url: string | URL): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  return decodeURIComponent(parsed.pathname.replace(/^\//, ''));
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export function redactDatabaseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    for (const key of [...url.searchParams.keys()]) {
      if (/pass|secret|key/i.test(key)) url.searchParams.set(key, '***');
    }
    return url.toString();
  } catch {
    // Not parseable, so we cannot tell where a password would be: show nothing of it.
    return '<unparseable URL>';
  }
}
