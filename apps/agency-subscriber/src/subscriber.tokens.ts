/** Injection tokens of the subscriber's own providers (explicit tokens: isolatedModules drops type metadata). */
export const INBOX_STORE = Symbol('INBOX_STORE');
export const DESK_STORE = Symbol('DESK_STORE');
export const AUDIT_RELAY = Symbol('AUDIT_RELAY');
export const INBOX_NOTIFIER = Symbol('INBOX_NOTIFIER');
export const SUBSCRIBER_OPTIONS = Symbol('SUBSCRIBER_OPTIONS');
export const RETENTION = Symbol('RETENTION');
/** The feed consumer's failure policy, lag metrics and stall readiness (@backbone/kafka ConsumerSafety). */
export const CONSUMER_SAFETY = Symbol('CONSUMER_SAFETY');
/** The feed topic, consumer group and client id the feed consumer uses (FeedWiring). */
export const FEED_WIRING = Symbol('FEED_WIRING');
