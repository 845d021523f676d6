// fast-check generators of alerts that are valid for the schema and plausible for the domain
// (exercise id iff Exercise, references iff Update/Cancel, accuracy 1-4, addressing lists
// that fit the mode), for property tests of any lib. Test-only: it imports fast-check.
import fc from 'fast-check';
import {
  ADDRESSING_MODES,
  CERTAINTIES,
  DOCUMENT_KINDS,
  HANDLING_CODES,
  MSG_TYPES,
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
  type Addressing,
  type Alert,
  type MsgType,
  type Region,
  type Status,
  type Subject,
} from '../alert.types.js';

export interface AgencyRef {
  readonly code: string;
  readonly region: Region;
}

/** A few agencies of policies/registry.yaml, at least two per region. */
export const SAMPLE_AGENCIES: readonly AgencyRef[] = [
  { code: 'FR-NCB', region: 'EUROPE' },
  { code: 'DE-NCB', region: 'EUROPE' },
  { code: 'NL-NCB', region: 'EUROPE' },
  { code: 'US-NCB', region: 'AMERICAS' },
  { code: 'CA-NCB', region: 'AMERICAS' },
  { code: 'JP-NCB', region: 'ASIA_SOUTH_PACIFIC' },
  { code: 'AU-NCB', region: 'ASIA_SOUTH_PACIFIC' },
  { code: 'ZA-NCB', region: 'AFRICA' },
  { code: 'NG-NCB', region: 'AFRICA' },
  { code: 'MA-NCB', region: 'MIDDLE_EAST_NORTH_AFRICA' },
  { code: 'AE-NCB', region: 'MIDDLE_EAST_NORTH_AFRICA' },
];

export interface AlertArbitraryOptions {
  /** Agencies to draw the sender and every agency list from. Default: SAMPLE_AGENCIES. */
  readonly agencies?: readonly AgencyRef[];
  /** ISO 3166 alpha-2 codes for area, nationalities, doNotActOn. Default: a dozen. */
  readonly countries?: readonly string[];
  /** Earliest and latest `sent`. Default: 2000-01-01 to 2100-01-01. */
  readonly sentBetween?: readonly [Date, Date];
  /** Whether a subject (and its field groups) may be present. Default: sometimes. */
  readonly subject?: 'always' | 'never' | 'sometimes';
}

const SAMPLE_COUNTRIES = ['FR', 'DE', 'NL', 'ES', 'IT', 'US', 'CA', 'JP', 'AU', 'ZA', 'NG', 'MA', 'AE'] as const;

/** Any Unicode text (astral planes included), never lone surrogates. */
const text = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength });

const subsetOf = <T>(values: readonly T[], minLength = 0): fc.Arbitrary<T[]> =>
  fc.uniqueArray(fc.constantFrom(...values), { minLength, maxLength: values.length });

export function subjectArbitrary(options: Pick<AlertArbitraryOptions, 'countries'> = {}): fc.Arbitrary<Subject> {
  const countries = options.countries ?? SAMPLE_COUNTRIES;
  const country = fc.constantFrom(...countries);
  const dateOfBirth = fc.oneof(
    fc.integer({ min: 1900, max: 2025 }).map(String),
    fc.date({ min: new Date('1900-01-01'), max: new Date('2025-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  );
  return fc.record({
    familyName: fc.option(text(30), { nil: null }),
    forenames: fc.option(text(40), { nil: null }),
    dateOfBirth: fc.option(dateOfBirth, { nil: null }),
    nationalities: subsetOf(countries),
    sex: fc.option(fc.constantFrom('F' as const, 'M' as const, 'X' as const, 'U' as const), { nil: null }),
    biometrics: fc.option(
      fc.record({
        fingerprintRefs: fc.array(text(20), { maxLength: 3 }),
        dnaProfileRef: fc.option(text(20), { nil: null }),
        photoRefs: fc.array(text(20), { maxLength: 3 }),
      }),
      { nil: null },
    ),
    identityDocuments: fc.array(fc.record({ kind: fc.constantFrom(...DOCUMENT_KINDS), number: text(12), issuingCountry: country }), {
      maxLength: 3,
    }),
    victim: fc.option(
      fc.record({
        category: fc.constantFrom(...VICTIM_CATEGORIES),
        details: text(60),
        lastSeen: fc.option(text(20), { nil: null }),
      }),
      { nil: null },
    ),
  });
}

function addressingArbitrary(agencies: readonly string[]): fc.Arbitrary<Addressing> {
  return fc.constantFrom(...ADDRESSING_MODES).chain((mode): fc.Arbitrary<Addressing> => {
    switch (mode) {
      case 'ALL':
        return fc.constant({ mode, regions: [], agencies: [] });
      case 'REGIONS':
        return subsetOf(REGIONS, 1).map((regions) => ({ mode, regions, agencies: [] }));
      case 'EXPLICIT':
        return subsetOf(agencies, 1).map((list) => ({ mode, regions: [], agencies: list }));
    }
  });
}

export function alertArbitrary(options: AlertArbitraryOptions = {}): fc.Arbitrary<Alert> {
  const agencies = options.agencies ?? SAMPLE_AGENCIES;
  if (agencies.length === 0) throw new Error('alertArbitrary needs at least one agency');
  const codes = agencies.map((a) => a.code);
  const countries = options.countries ?? SAMPLE_COUNTRIES;
  const [from, to] = options.sentBetween ?? [new Date('2000-01-01T00:00:00Z'), new Date('2100-01-01T00:00:00Z')];
  const subjectMode = options.subject ?? 'sometimes';
  const subject: fc.Arbitrary<Subject | null> =
    subjectMode === 'never'
      ? fc.constant(null)
      : subjectMode === 'always'
        ? subjectArbitrary({ countries })
        : fc.option(subjectArbitrary({ countries }), { nil: null });

  const lifecycle = fc
    .constantFrom(...MSG_TYPES)
    .chain((msgType): fc.Arbitrary<{ msgType: MsgType; version: number }> =>
      msgType === 'Alert' ? fc.constant({ msgType, version: 1 }) : fc.integer({ min: 2, max: 50 }).map((version) => ({ msgType, version })),
    );
  const exercise = fc
    .constantFrom(...STATUSES)
    .chain((status): fc.Arbitrary<{ status: Status; exerciseId: string | null }> =>
      status === 'Exercise'
        ? fc.stringMatching(/^EX-[A-Z0-9]{3,12}$/).map((exerciseId) => ({ status, exerciseId }))
        : fc.constant({ status, exerciseId: null }),
    );

  return fc
    .record({
      alertId: fc.uuid(),
      lifecycle,
      exercise,
      sender: fc.constantFrom(...agencies),
      sent: fc.date({ min: from, max: to, noInvalidDate: true }),
      scope: fc.constantFrom(...SCOPES),
      noticeType: fc.constantFrom(...NOTICE_TYPES),
      purposes: subsetOf(PURPOSES),
      headline: text(80),
      description: text(400),
      urgency: fc.constantFrom(...URGENCIES),
      severity: fc.constantFrom(...SEVERITIES),
      certainty: fc.constantFrom(...CERTAINTIES),
      tlp: fc.constantFrom(...TLPS),
      handlingCode: fc.constantFrom(...HANDLING_CODES),
      sourceReliability: fc.constantFrom(...SOURCE_RELIABILITIES),
      informationAccuracy: fc.integer({ min: 1, max: 4 }),
      addressing: addressingArbitrary(codes),
      releasableTo: subsetOf(codes),
      neverTo: subsetOf(codes),
      consentedThirdCountries: subsetOf(codes),
      capitalOffence: fc.boolean(),
      doNotActOn: subsetOf(countries),
      expiresAfterMs: fc.option(fc.integer({ min: 60_000, max: 2 * 365 * 24 * 3_600_000 }), { nil: null }),
      areaDescription: text(60),
      areaCountries: subsetOf(countries),
      subject,
    })
    .map(({ lifecycle: life, exercise: ex, sender, expiresAfterMs, areaDescription, areaCountries, ...rest }): Alert => ({
      alertId: rest.alertId,
      version: life.version,
      sender: sender.code,
      senderRegion: sender.region,
      sent: rest.sent,
      status: ex.status,
      exerciseId: ex.exerciseId,
      msgType: life.msgType,
      references: life.msgType === 'Alert' ? [] : [{ alertId: rest.alertId, version: life.version - 1 }],
      scope: rest.scope,
      noticeType: rest.noticeType,
      purposes: rest.purposes,
      headline: rest.headline,
      description: rest.description,
      urgency: rest.urgency,
      severity: rest.severity,
      certainty: rest.certainty,
      tlp: rest.tlp,
      handlingCode: rest.handlingCode,
      sourceReliability: rest.sourceReliability,
      informationAccuracy: rest.informationAccuracy,
      addressing: rest.addressing,
      releasableTo: rest.releasableTo,
      neverTo: rest.neverTo,
      consentedThirdCountries: rest.consentedThirdCountries,
      capitalOffence: rest.capitalOffence,
      doNotActOn: rest.doNotActOn,
      expires: expiresAfterMs === null ? null : new Date(rest.sent.getTime() + expiresAfterMs),
      area: { description: areaDescription, countries: areaCountries },
      subject: rest.subject,
    }));
}
