// Test-only surface of the codec lib: fixtures and fast-check generators.
// Import as `@backbone/codec/testing`; never from production code (it pulls in fast-check).
export {
  SAMPLE_ALERT_ID,
  SAMPLE_SENT,
  sampleAlert,
  sampleAuditEvent,
  sampleDeadLetter,
  sampleDelivery,
  sampleFullAlert,
  sampleSubject,
} from './alert.fixture.js';
export { alertArbitrary, SAMPLE_AGENCIES, subjectArbitrary, type AgencyRef, type AlertArbitraryOptions } from './alert.arbitrary.js';
export { auditEventArbitrary, deadLetterArbitrary, deliveryArbitrary } from './delivery.arbitrary.js';
export { canonicalDecisionArbitrary, looseAuditEventArbitrary } from './canonical.arbitrary.js';
