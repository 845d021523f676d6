// The TypeScript mirror (alert.types.ts, delivery.types.ts) must say what the .avsc files say.
import { describe, expect, it } from '@jest/globals';
import * as alertTypes from './alert.types.js';
import * as deliveryTypes from './delivery.types.js';
import { SchemaCatalog } from './schema.catalog.js';
import { sampleAuditEvent, sampleDeadLetter, sampleDelivery, sampleFullAlert } from './testing/alert.fixture.js';

type Json = { readonly [key: string]: unknown };

/** Every named type defined in a schema, by short name. */
function namedTypes(schema: unknown, found = new Map<string, Json>()): Map<string, Json> {
  if (Array.isArray(schema)) schema.forEach((s) => namedTypes(s, found));
  else if (schema !== null && typeof schema === 'object') {
    const obj = schema as Json;
    if (typeof obj['name'] === 'string' && typeof obj['type'] === 'string' && ['record', 'enum', 'fixed'].includes(obj['type'])) {
      found.set(obj['name'].split('.').pop()!, obj);
    }
    for (const key of ['type', 'items', 'values', 'fields']) namedTypes(obj[key], found);
  }
  return found;
}

function symbolsOf(record: string, enumName: string): unknown {
  return namedTypes(SchemaCatalog.default().latest(record).schema).get(enumName)?.['symbols'];
}

function fieldNamesOf(record: string, typeName: string): unknown {
  const fields = namedTypes(SchemaCatalog.default().latest(record).schema).get(typeName)?.['fields'];
  return (fields as { name: string }[] | undefined)?.map((f) => f.name);
}

describe('const arrays equal the enum symbols, in order', () => {
  it.each([
    ['REGIONS', alertTypes.REGIONS, 'Alert', 'Region'],
    ['STATUSES', alertTypes.STATUSES, 'Alert', 'Status'],
    ['MSG_TYPES', alertTypes.MSG_TYPES, 'Alert', 'MsgType'],
    ['MSG_TYPES', alertTypes.MSG_TYPES, 'Delivery', 'MsgType'],
    ['SCOPES', alertTypes.SCOPES, 'Alert', 'Scope'],
    ['NOTICE_TYPES', alertTypes.NOTICE_TYPES, 'Alert', 'NoticeType'],
    ['PURPOSES', alertTypes.PURPOSES, 'Alert', 'Purpose'],
    ['URGENCIES', alertTypes.URGENCIES, 'Alert', 'Urgency'],
    ['SEVERITIES', alertTypes.SEVERITIES, 'Alert', 'Severity'],
    ['CERTAINTIES', alertTypes.CERTAINTIES, 'Alert', 'Certainty'],
    ['TLPS', alertTypes.TLPS, 'Alert', 'Tlp'],
    ['HANDLING_CODES', alertTypes.HANDLING_CODES, 'Alert', 'HandlingCode'],
    ['SOURCE_RELIABILITIES', alertTypes.SOURCE_RELIABILITIES, 'Alert', 'SourceReliability'],
    ['ADDRESSING_MODES', alertTypes.ADDRESSING_MODES, 'Alert', 'AddressingMode'],
    ['DOCUMENT_KINDS', alertTypes.DOCUMENT_KINDS, 'Alert', 'DocumentKind'],
    ['VICTIM_CATEGORIES', alertTypes.VICTIM_CATEGORIES, 'Alert', 'VictimCategory'],
    ['FIELD_GROUPS', alertTypes.FIELD_GROUPS, 'Delivery', 'FieldGroup'],
    ['AUDIT_EVENT_TYPES', deliveryTypes.AUDIT_EVENT_TYPES, 'AuditEvent', 'AuditEventType'],
    ['DECISION_OUTCOMES', deliveryTypes.DECISION_OUTCOMES, 'AuditEvent', 'DecisionOutcome'],
    ['DEAD_LETTER_REASONS', deliveryTypes.DEAD_LETTER_REASONS, 'DeadLetter', 'DeadLetterReason'],
  ] as const)('%s = %s.%s', (_name, values, record, enumName) => {
    expect(symbolsOf(record, enumName)).toEqual([...values]);
  });

  it('the literal unions without a const array', () => {
    const sex: NonNullable<alertTypes.Subject['sex']>[] = ['F', 'M', 'X', 'U'];
    expect(symbolsOf('Alert', 'Sex')).toEqual(sex);
    const outcomes: deliveryTypes.DeliveryOutcome[] = ['ALLOW', 'ALLOW_WITH_OBLIGATIONS'];
    expect(symbolsOf('Delivery', 'DeliveryOutcome')).toEqual(outcomes);
  });

  it('the FIELD_GROUPS of the alert match its field-group docs', () => {
    const subjectFields = namedTypes(SchemaCatalog.default().latest('Alert').schema).get('Subject')?.['fields'] as { doc?: string }[];
    const documented = subjectFields.flatMap((f) => /Field group ([A-Z_]+)/.exec(f.doc ?? '')?.[1] ?? []);
    expect(documented).toEqual([...alertTypes.FIELD_GROUPS]);
  });
});

describe('interfaces name the same fields as the records, in order', () => {
  // The fixtures are typed with the interfaces and fill every field, so their keys are the
  // interface's fields: a field added on one side only fails here.
  const alert = sampleFullAlert();
  const subject = alert.subject!;
  it.each([
    ['Alert', 'Alert', alert],
    ['Alert', 'Reference', alert.references[0]!],
    ['Alert', 'Addressing', alert.addressing],
    ['Alert', 'Area', alert.area],
    ['Alert', 'Subject', subject],
    ['Alert', 'Biometrics', subject.biometrics!],
    ['Alert', 'IdentityDocument', subject.identityDocuments[0]!],
    ['Alert', 'VictimDetails', subject.victim!],
    ['Delivery', 'Delivery', sampleDelivery()],
    ['AuditEvent', 'AuditEvent', sampleAuditEvent()],
    ['AuditEvent', 'RecipientDecision', { agency: 'x', outcome: 'ALLOW', ruleId: 'r', redactedGroups: [], executionFlags: [] }],
    ['DeadLetter', 'DeadLetter', sampleDeadLetter()],
  ] as const)('%s.%s', (record, typeName, value) => {
    expect(Object.keys(value)).toEqual(fieldNamesOf(record, typeName));
  });
});
