// The agency subscriber's module and settings (its database and desks: @backbone/inbox-store).
export {
  AgencySubscriberModule,
  subscriberWiring,
  SUBSCRIBER_RUNTIME,
  type AgencySubscriberOptions,
  type SubscriberRuntime,
} from './agency-subscriber.module.js';
export { loadSubscriberConfig, SUBSCRIBER_SETTINGS, type SubscriberSettings } from './config/subscriber.config.js';
export type { FeedEvent, InboxItem, InboxDetail, InboxPage } from './inbox/inbox.types.js';
