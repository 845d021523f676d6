// The notice publisher's database (schema notice_publisher, migrations) and its office credentials:
// written by apps/notice-publisher; the CLI issues and revokes credentials through it directly.
export { openPublisherDatabase, publisherDatabaseUrl, PUBLISHER_SCHEMA, PUBLISHER_MIGRATIONS } from './publisher.database.js';
export { CredentialStore, type CredentialCheck } from './credential.store.js';
export { issueOfficeCredential, revokeOfficeCredentials, type CredentialAdminOptions } from './credentials.admin.js';
