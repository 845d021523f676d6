export { KafkaConfig, KAFKA_SETTINGS, type KafkaConnection, type KafkaSettings } from './kafka.config.js';
export { createKafka } from './kafka-client.factory.js';
export { KafkaReadiness } from './kafka.readiness.js';
export { auditEvent, encodeAuditEvent } from './audit-event.builder.js';
export { deadLetterFor, type FailedRecord } from './dead-letter.builder.js';
export { topicNames, TOPICS, REGION_ORDER, PARTITIONS_PER_REGION, SUBMITTED_PARTITIONS, type TopicNames } from './topics.js';
export { KafkaModule, KAFKA, KAFKA_CONFIG, TOPIC_NAMES } from './kafka.module.js';
export { generateEventKey, readEventKeyring, readEventSigningKey, readPublicKeys, type PublicKeysFile } from './event-keys.files.js';
