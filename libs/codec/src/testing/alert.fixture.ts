// Fixture builders for tests of every lib and app. Not exported from the production
// surface (`@backbone/codec`): import them from `@backbone/codec/testing`.
// Every call returns fresh objects, so a test may mutate what it gets.
import type { Alert, Subject } from '../alert.types.js';
import type { AuditEvent, DeadLetter, Delivery } from '../delivery.types.js';

export const SAMPLE_ALERT_ID = '6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f';
export const SAMPLE_SENT = new Date('2025-03-14T09:26:53.589Z');

/**
 * A valid, minimal Actual RED notice from FR-NCB addressed to all agencies, no subject.
 * Pass overrides for the fields a test cares about (shallow merge).
 */
export function sampleAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    alertId: SAMPLE_ALERT_ID,
    version: 1,
    sender: 'FR-NCB',
    senderRegion: 'EUROPE',
    sent: new Date(SAMPLE_SENT.getTime()),
    status: 'Actual',
    exerciseId: null,
    msgType: 'Alert',
    references: [],
    scope: 'Restricted',
    noticeType: 'RED',
    purposes: ['ARREST_EXTRADITION'],
    headline: 'Wanted for armed robbery',
    description: 'Subject is sought for prosecution for armed robbery committed in Lyon.',
    urgency: 'Expected',
    severity: 'Severe',
    certainty: 'Likely',
    tlp: 'AMBER',
    handlingCode: 'H1',
    sourceReliability: 'B',
    informationAccuracy: 2,
    addressing: { mode: 'ALL', regions: [], agencies: [] },
    releasableTo: [],
    neverTo: [],
    consentedThirdCountries: [],
    capitalOffence: false,
    doNotActOn: [],
    expires: null,
    area: { description: 'Schengen area', countries: [] },
    subject: null,
    ...overrides,
  };
}

/** A subject with every field group filled: biometrics, identity documents, victim details. */
export function sampleSubject(overrides: Partial<Subject> = {}): Subject {
  return {
    familyName: 'DOE',
    forenames: 'Jane Marie',
    dateOfBirth: '1987-05',
    nationalities: ['FR', 'BE'],
    sex: 'F',
    biometrics: {
      fingerprintRefs: ['afis:FR:2025:000123', 'afis:FR:2025:000124'],
      dnaProfileRef: 'dna:FR:2025:7781',
      photoRefs: ['img:FR:2025:55'],
    },
    identityDocuments: [
      { kind: 'PASSPORT', number: '19FV12345', issuingCountry: 'FR' },
      { kind: 'ID_CARD', number: 'BE-592-0031', issuingCountry: 'BE' },
    ],
    victim: { category: 'TRAFFICKING_VICTIM', details: 'Believed to be held against her will.', lastSeen: '2025-03-01' },
    ...overrides,
  };
}

/** An alert with every optional part filled: the worst case for redaction and size. */
export function sampleFullAlert(overrides: Partial<Alert> = {}): Alert {
  return sampleAlert({
    version: 3,
    status: 'Exercise',
    exerciseId: 'EX-NORTHSTAR-2025',
    msgType: 'Update',
    references: [{ alertId: SAMPLE_ALERT_ID, version: 2 }],
    purposes: ['LOCATE_PERSON', 'HUMANITARIAN'],
    noticeType: 'YELLOW',
    urgency: 'Immediate',
    severity: 'Extreme',
    certainty: 'Observed',
    tlp: 'AMBER_STRICT',
    handlingCode: 'H2',
    sourceReliability: 'A',
    informationAccuracy: 1,
    addressing: { mode: 'EXPLICIT', regions: ['EUROPE', 'AFRICA'], agencies: ['DE-NCB', 'MA-NCB'] },
    releasableTo: ['DE-NCB', 'MA-NCB', 'ES-NCB'],
    neverTo: ['XX-NCB'],
    consentedThirdCountries: ['MA-NCB'],
    capitalOffence: true,
    doNotActOn: ['ES'],
    expires: new Date('2026-03-14T00:00:00.000Z'),
    area: { description: 'Western Mediterranean', countries: ['FR', 'ES', 'MA'] },
    subject: sampleSubject(),
    ...overrides,
  });
}

export function sampleDelivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    deliveryId: '0b7e3c1a-2d4f-4a6b-8c9d-1e2f3a4b5c6d',
    recipient: 'DE-NCB',
    alertId: SAMPLE_ALERT_ID,
    alertVersion: 1,
    msgType: 'Alert',
    decidedAt: new Date(SAMPLE_SENT.getTime() + 1_000),
    policyVersion: '2025.03.1',
    ruleId: 'community.default-allow',
    outcome: 'ALLOW',
    redactedGroups: [],
    executionFlags: [],
    noReshare: false,
    recall: false,
    replay: false,
    // Not a real encoded alert: encode one with alertCodec when the test decodes it.
    alert: Buffer.from([0xc3, 0x01]),
    ...overrides,
  };
}

export function sampleAuditEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    eventId: '9d8c7b6a-5f4e-4d3c-8b2a-190817161514',
    type: 'SUBMITTED',
    occurredAt: new Date(SAMPLE_SENT.getTime() + 10),
    service: 'notice-publisher',
    actor: 'FR-NCB',
    alertId: SAMPLE_ALERT_ID,
    alertVersion: 1,
    originator: 'FR-NCB',
    noticeType: 'RED',
    agency: null,
    policyVersion: null,
    decisions: [],
    reason: null,
    details: {},
    payload: null,
    signature: null,
    ...overrides,
  };
}

export function sampleDeadLetter(overrides: Partial<DeadLetter> = {}): DeadLetter {
  return {
    deadLetterId: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
    service: 'policy-gate',
    sourceTopic: 'alerts.submitted',
    sourcePartition: 3,
    sourceOffset: 42,
    key: Buffer.from(SAMPLE_ALERT_ID, 'utf8'),
    value: Buffer.from([0x00, 0x01, 0x02]),
    reason: 'UNDECODABLE',
    detail: 'bad marker',
    failedAt: new Date(SAMPLE_SENT.getTime() + 20),
    ...overrides,
  };
}
