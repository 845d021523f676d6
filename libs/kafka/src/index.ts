export { KafkaConfig, KAFKA_SETTINGS, type KafkaConnection, type KafkaSettings } from './kafka.config.js';
export { createKafka } from './kafka-client.factory.js';
export { KafkaReadiness } from './kafka.readiness.js';
export { auditEvent, encodeAuditEvent } from './audit-event.builder.js';
export { deadLetterFor, type FailedRecord } from './dead-letter.builder.js';
export { createTopicsAndWait, type NewTopic } from './topic.admin.js';
export {
  topicNames,
  TOPICS,
  PARKING_SERVICES,
  REGION_ORDER,
  PARTITIONS_PER_REGION,
  SUBMITTED_PARTITIONS,
  type TopicNames,
} from './topics.js';
export { KafkaModule, KAFKA, KAFKA_CONFIG, TOPIC_NAMES } from './kafka.module.js';
export { generateEventKey, readEventKeyring, readEventSigningKey, readPublicKeys, type PublicKeysFile } from './event-keys.files.js';
export { CONSUMER_GROUP_TIMING, RestartBackoff, superviseCrashes, type CrashSupervision } from './consumer.supervision.js';
export { evictGroupMembers, evictPredecessors } from './group-eviction.js';
export { heartbeatWhile } from './heartbeat-while.js';
export { classifyFailure, PermanentRecordError, type ClassifiedFailure, type FailureKind } from './failure.classifier.js';
export { KafkaRecordParker, PARKED_REASON_HEADER, type RecordParker } from './record.parker.js';
export { RecordGuard, ConsumerStoppingError, type GuardControl, type GuardOutcome, type RecordGuardOptions } from './record.guard.js';
export { ConsumerMetrics, type ConsumerTotals } from './consumer.metrics.js';
export {
  ConsumerProgressMonitor,
  CONSUMER_PROGRESS_CHECK,
  TRAILING_MARKER_SLACK,
  type PartitionProgress,
} from './consumer-progress.monitor.js';
export {
  CONSUMER_SAFETY_SETTINGS,
  DEFAULT_CONSUMER_SAFETY,
  loadConsumerSafetySettings,
  type ConsumerSafetySettings,
} from './consumer-safety.config.js';
export { ConsumerSafety, type ConsumerSafetyOptions } from './consumer.safety.js';
export { parkedTopics, readParked, redriveParked, REDRIVEN_FROM_HEADER, type ParkedRecord } from './parked.records.js';
export {
  RefusalAuditModule,
  RefusalAuditor,
  REFUSAL_EVENT_TYPE,
  REFUSAL_KINDS,
  RATE_LIMITED_REASON,
  type RefusalAuditOptions,
} from './refusal-audit.module.js';
export {
  REFUSAL_AUDIT_SETTINGS,
  DEFAULT_REFUSAL_AUDIT,
  loadRefusalAuditSettings,
  type RefusalAuditSettings,
} from './refusal-audit.config.js';
export { RefusalAggregator, clientBucketOf, OVERFLOW_KEY, type AggregatedRefusal, type RefusalKey } from './refusal.aggregator.js';
export { AnonymousRefusalLimiter, type LimitDecision } from './anonymous-refusal.limiter.js';
