export { KafkaConfig, KAFKA_SETTINGS, type KafkaConnection, type KafkaSettings } from './kafka.config.js';
export { createKafka } from './kafka-client.factory.js';
export { KafkaReadiness } from './kafka.readiness.js';
export { auditEvent } from './audit-event.builder.js';
export { deadLetterFor, type FailedRecord } from './dead-letter.builder.js';
export { createTopicsAndWait, type NewTopic } from './topic.admin.js';
export { topicNames, TOPICS, REGION_ORDER, PARTITIONS_PER_REGION, SUBMITTED_PARTITIONS, type TopicNames } from './topics.js';
export { KafkaModule, KAFKA, KAFKA_CONFIG, TOPIC_NAMES } from './kafka.module.js';
export { CONSUMER_GROUP_TIMING, RestartBackoff, superviseCrashes, type CrashSupervision } from './consumer.supervision.js';
