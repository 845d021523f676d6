export { pollUntil, type PollOptions } from './poll-until.js';
export { uniqueName } from './names.js';
export { testKafkaConnection, testKafka, hasServicePrincipals, createTopics, deleteTopics } from './kafka.js';
export { alertInput } from './alert-input.fixture.js';
export { TcpProxy } from './tcp.proxy.js';
