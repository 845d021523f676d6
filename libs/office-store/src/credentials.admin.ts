// Management operations on office credentials, run by the CLI directly against the database
// (like a management command): no HTTP endpoint can mint credentials.
import { join } from 'node:path';
import { loadRegistry } from '@backbone/policy';
import { CredentialStore } from './credential.store.js';
import { openPublisherDatabase, publisherDatabaseUrl } from './publisher.database.js';

export interface CredentialAdminOptions {
  databaseUrl: string | null;
  policiesDir: string;
}

async function withStore<T>(opts: CredentialAdminOptions, agency: string, work: (store: CredentialStore) => Promise<T>): Promise<T> {
  if (!loadRegistry(join(opts.policiesDir, 'registry.yaml')).agencies.some((a) => a.code === agency))
    throw new Error(`${agency} is not an agency of ${opts.policiesDir}/registry.yaml`);
  const ds = await openPublisherDatabase(await publisherDatabaseUrl(opts.databaseUrl), 2);
  try {
    return await work(new CredentialStore(ds));
  } finally {
    await ds.destroy();
  }
}

export function issueOfficeCredential(opts: CredentialAdminOptions, agency: string): Promise<{ tokenId: string; token: string }> {
  return withStore(opts, agency, (s) => s.issue(agency));
}

export function revokeOfficeCredentials(opts: CredentialAdminOptions, agency: string): Promise<number> {
  return withStore(opts, agency, (s) => s.revoke(agency));
}
