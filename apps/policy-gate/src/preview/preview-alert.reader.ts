import { randomUUID } from 'node:crypto';
import {
  ADDRESSING_MODES,
  CERTAINTIES,
  DOCUMENT_KINDS,
  HANDLING_CODES,
  NOTICE_TYPES,
  PURPOSES,
  REGIONS,
  SCOPES,
  SEVERITIES,
  SOURCE_RELIABILITIES,
  STATUSES,
  TLPS,
  URGENCIES,
  VICTIM_CATEGORIES,
  type Alert,
  type Region,
  type Subject,
} from '@backbone/codec';
import type { FieldProblem } from '@backbone/bootstrap';

// The dry-run preview judges a draft the console has not published yet. The publisher's own
// validator (apps/notice-publisher) stays the authority at publish time; this reader only needs
// the fields the policy decides on, each checked for its type and allowed values so a preview is
// never computed from a value the publisher would refuse. Missing optional fields take the
// values the publisher would store (empty lists, null), so a half-written draft can be previewed.

type Obj = Record<string, unknown>;

export type PreviewRead = { ok: true; alert: Alert } | { ok: false; errors: FieldProblem[] };

class Reader {
  readonly errors: FieldProblem[] = [];

  enumOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[], fallback?: T): T {
    const v = o[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.errors.push({
        field: `${path}/${key}`,
        code: v === undefined ? 'required' : 'invalid-enum',
        message: `must be one of ${values.join(', ')}`,
      });
      return values[0]!;
    }
    return v as T;
  }

  strings(o: Obj, key: string, path: string, pattern?: RegExp): string[] {
    const v = o[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && (pattern === undefined || pattern.test(x)))) {
      this.errors.push({
        field: `${path}/${key}`,
        code: 'invalid-type',
        message: pattern ? `must be a list of codes matching ${pattern.source}` : 'must be a list of strings',
      });
      return [];
    }
    return v as string[];
  }

  enumList<T extends string>(o: Obj, key: string, path: string, values: readonly T[]): T[] {
    const list = this.strings(o, key, path);
    const bad = list.find((x) => !(values as readonly string[]).includes(x));
    if (bad !== undefined)
      this.errors.push({ field: `${path}/${key}`, code: 'invalid-enum', message: `${bad} is not one of ${values.join(', ')}` });
    return list.filter((x) => (values as readonly string[]).includes(x)) as T[];
  }

  text(o: Obj, key: string, fallback = ''): string {
    const v = o[key];
    return typeof v === 'string' ? v : fallback;
  }

  object(o: Obj, key: string, path: string): Obj | null {
    const v = o[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.errors.push({ field: `${path}/${key}`, code: 'invalid-type', message: 'must be an object' });
      return null;
    }
    return v as Obj;
  }
}

const AGENCY = /^[A-Z0-9][A-Z0-9_-]{1,39}$/;
const COUNTRY = /^[A-Z]{2}$/;

/** The draft as the Alert the publisher would submit for `sender`, or the field problems found. */
export function readPreviewAlert(body: unknown, sender: string, senderRegion: Region, now: Date): PreviewRead {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '', code: 'invalid-type', message: 'the body must be a JSON object' }] };
  }
  const b = body as Obj;
  const r = new Reader();
  const status = r.enumOf(b, 'status', '', STATUSES, 'Actual');
  const addressing = r.object(b, 'addressing', '') ?? { mode: 'ALL' };
  const area = r.object(b, 'area', '') ?? {};
  const subjectIn = r.object(b, 'subject', '');
  let subject: Subject | null = null;
  if (subjectIn) {
    const bio = r.object(subjectIn, 'biometrics', '/subject');
    const victim = r.object(subjectIn, 'victim', '/subject');
    const docs = Array.isArray(subjectIn['identityDocuments']) ? (subjectIn['identityDocuments'] as unknown[]) : [];
    subject = {
      familyName: r.text(subjectIn, 'familyName') || null,
      forenames: r.text(subjectIn, 'forenames') || null,
      dateOfBirth: r.text(subjectIn, 'dateOfBirth') || null,
      nationalities: r.strings(subjectIn, 'nationalities', '/subject', COUNTRY),
      sex: null,
      biometrics: bio
        ? {
            fingerprintRefs: r.strings(bio, 'fingerprintRefs', '/subject/biometrics'),
            dnaProfileRef: r.text(bio, 'dnaProfileRef') || null,
            photoRefs: r.strings(bio, 'photoRefs', '/subject/biometrics'),
          }
        : null,
      identityDocuments: docs.map((d, i) => {
        const doc = typeof d === 'object' && d !== null ? (d as Obj) : {};
        return {
          kind: r.enumOf(doc, 'kind', `/subject/identityDocuments/${i}`, DOCUMENT_KINDS),
          number: r.text(doc, 'number'),
          issuingCountry: r.text(doc, 'issuingCountry'),
        };
      }),
      victim: victim
        ? {
            category: r.enumOf(victim, 'category', '/subject/victim', VICTIM_CATEGORIES),
            details: r.text(victim, 'details'),
            lastSeen: r.text(victim, 'lastSeen') || null,
          }
        : null,
    };
  }
  let expires: Date | null = null;
  if (typeof b['expires'] === 'string') {
    const d = new Date(b['expires']);
    if (Number.isNaN(d.getTime())) r.errors.push({ field: '/expires', code: 'invalid-format', message: 'must be an ISO 8601 date-time' });
    else expires = d;
  }
  const accuracy = b['informationAccuracy'] ?? 4;
  if (typeof accuracy !== 'number' || !Number.isInteger(accuracy) || accuracy < 1 || accuracy > 4) {
    r.errors.push({ field: '/informationAccuracy', code: 'out-of-range', message: 'must be an integer 1-4' });
  }
  const alert: Alert = {
    alertId: randomUUID(),
    version: 1,
    sender,
    senderRegion,
    sent: now,
    status,
    exerciseId: status === 'Exercise' ? r.text(b, 'exerciseId') || null : null,
    msgType: 'Alert',
    references: [],
    scope: r.enumOf(b, 'scope', '', SCOPES, 'Restricted'),
    noticeType: r.enumOf(b, 'noticeType', '', NOTICE_TYPES),
    purposes: r.enumList(b, 'purposes', '', PURPOSES),
    headline: r.text(b, 'headline'),
    description: r.text(b, 'description'),
    urgency: r.enumOf(b, 'urgency', '', URGENCIES, 'Unknown'),
    severity: r.enumOf(b, 'severity', '', SEVERITIES, 'Unknown'),
    certainty: r.enumOf(b, 'certainty', '', CERTAINTIES, 'Unknown'),
    tlp: r.enumOf(b, 'tlp', '', TLPS),
    handlingCode: r.enumOf(b, 'handlingCode', '', HANDLING_CODES),
    sourceReliability: r.enumOf(b, 'sourceReliability', '', SOURCE_RELIABILITIES, 'X'),
    informationAccuracy: typeof accuracy === 'number' ? accuracy : 4,
    addressing: {
      mode: r.enumOf(addressing, 'mode', '/addressing', ADDRESSING_MODES),
      regions: r.enumList(addressing, 'regions', '/addressing', REGIONS),
      agencies: r.strings(addressing, 'agencies', '/addressing', AGENCY),
    },
    releasableTo: r.strings(b, 'releasableTo', '', AGENCY),
    neverTo: r.strings(b, 'neverTo', '', AGENCY),
    consentedThirdCountries: r.strings(b, 'consentedThirdCountries', '', COUNTRY),
    capitalOffence: b['capitalOffence'] === true,
    doNotActOn: r.strings(b, 'doNotActOn', '', COUNTRY),
    expires,
    area: { description: r.text(area, 'description'), countries: r.strings(area, 'countries', '/area', COUNTRY) },
    subject,
  };
  return r.errors.length > 0 ? { ok: false, errors: r.errors } : { ok: true, alert };
}
