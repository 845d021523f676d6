// What other parts of the repo (CLI, benchmark, e2e tests, npm start) use of the agency subscriber.
export { AgencySubscriberModule, subscriberTransport, subscriberWiring, SUBSCRIBER_RUNTIME, type AgencySubscriberOptions, type SubscriberRuntime } from './agency-subscriber.module.js';
export { loadSubscriberConfig, SUBSCRIBER_SETTINGS, type SubscriberSettings } from './config/subscriber.config.js';
export { openSubscriberDatabase, subscriberSchemaFor } from './db/subscriber.database.js';
export { DeskStore, type Desk, type CreatedDesk } from './desks/desk.store.js';
export { normaliseDeskFilter, type DeskFilter, type DeskFilterInput } from './desks/desk.filter.js';
export type { FeedEvent, InboxItem, InboxDetail, InboxPage } from './inbox/inbox.types.js';
