export { ensureBroker, stopBroker, brokerStatus, brokerCommand } from './broker.js';
export type { BrokerInfo, BrokerNodeStatus, BrokerOptions, BrokerStatus, EnsureBrokerOptions } from './broker.js';
export { bootstrapAccess, rotateCredential, type AccessReport, type BootstrapOptions } from './access.js';
export { readCredentials, kafkaConnection, connectionInfo, credentialsFile } from './credentials.js';
export type { ConnectionInfo, Credentials, KafkaConnection, LocationOptions } from './credentials.js';
export {
  accessPlan,
  isManagedPrincipal,
  subscriberPrincipal,
  ADMIN_PRINCIPAL,
  CONSUMER_GROUPS,
  GATE_TRANSACTIONAL_ID_PREFIX,
  PUBLISHER_TRANSACTIONAL_ID_PREFIX,
  PUBLISHER_RECONCILE_GROUP_PREFIX,
  AUDIT_REPLAY_TRANSACTIONAL_ID_PREFIX,
  SERVICE_PRINCIPALS,
  FEED_PARTITIONS,
  AUDIT_PARTITIONS,
  DEAD_LETTER_PARTITIONS,
} from './access-plan.js';
export type { AccessPlan, AclRule, AclOperation, AclPattern, AclResource, TopicSpec } from './access-plan.js';
export { readAgencyCodes } from './registry.js';
export { backboneHome, kafkaStateDir, repoRoot } from './paths.js';
