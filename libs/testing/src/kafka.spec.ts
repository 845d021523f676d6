import { describe, expect, it } from '@jest/globals';
import { testKafkaConnection } from './kafka.js';

describe('testKafkaConnection on an external broker (KAFKA_BROKERS given)', () => {
  it('connects in plaintext without credentials when none are given', () => {
    expect(testKafkaConnection('admin', { KAFKA_BROKERS: 'k1:9092,k2:9092' })).toEqual({ brokers: ['k1:9092', 'k2:9092'] });
  });

  it('uses the given SASL user for admin and refuses principals it has no password for', () => {
    const env = { KAFKA_BROKERS: 'k1:9093', KAFKA_TLS: 'true', KAFKA_SASL_USERNAME: 'ops', KAFKA_SASL_PASSWORD: 'pw' };
    expect(testKafkaConnection('admin', env)).toEqual({
      brokers: ['k1:9093'],
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'ops', password: 'pw' },
    });
    expect(() => testKafkaConnection('subscriber-FR-NCB', env)).toThrow(/no credentials for "subscriber-FR-NCB"/);
  });

  it('explains a missing KAFKA_BROKERS', () => {
    expect(() => testKafkaConnection('admin', {})).toThrow(/KAFKA_BROKERS is not set/);
  });
});
