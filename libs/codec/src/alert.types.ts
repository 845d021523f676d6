// TypeScript mirror of schemas/alert.v1.avsc. The .avsc file is the source of truth;
// alert.types.spec.ts keeps the two in step.

export const REGIONS = ['AFRICA', 'AMERICAS', 'ASIA_SOUTH_PACIFIC', 'EUROPE', 'MIDDLE_EAST_NORTH_AFRICA'] as const;
export type Region = (typeof REGIONS)[number];

export const STATUSES = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const;
export type Status = (typeof STATUSES)[number];

export const MSG_TYPES = ['Alert', 'Update', 'Cancel'] as const;
export type MsgType = (typeof MSG_TYPES)[number];

export const SCOPES = ['Public', 'Restricted', 'Private'] as const;
export type Scope = (typeof SCOPES)[number];

export const NOTICE_TYPES = ['RED', 'YELLOW', 'BLUE', 'BLACK', 'GREEN', 'ORANGE', 'PURPLE', 'UN_SPECIAL', 'DIFFUSION'] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];

export const PURPOSES = [
  'ARREST_EXTRADITION',
  'LOCATE_PERSON',
  'IDENTIFY_PERSON',
  'WARN_THREAT',
  'MODUS_OPERANDI',
  'CRIMINAL_INVESTIGATION',
  'COUNTER_TERRORISM',
  'HUMANITARIAN',
] as const;
export type Purpose = (typeof PURPOSES)[number];

export const URGENCIES = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const;
export type Urgency = (typeof URGENCIES)[number];

export const SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CERTAINTIES = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'] as const;
export type Certainty = (typeof CERTAINTIES)[number];

/** FIRST TLP 2.0 labels, least to most restrictive. */
export const TLPS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER_STRICT', 'RED'] as const;
export type Tlp = (typeof TLPS)[number];

/** Europol SIENA handling codes. */
export const HANDLING_CODES = ['H0', 'H1', 'H2', 'H3'] as const;
export type HandlingCode = (typeof HANDLING_CODES)[number];

export const SOURCE_RELIABILITIES = ['A', 'B', 'C', 'X'] as const;
export type SourceReliability = (typeof SOURCE_RELIABILITIES)[number];

export const ADDRESSING_MODES = ['ALL', 'REGIONS', 'EXPLICIT'] as const;
export type AddressingMode = (typeof ADDRESSING_MODES)[number];

export const DOCUMENT_KINDS = ['PASSPORT', 'ID_CARD', 'DRIVING_LICENCE', 'RESIDENCE_PERMIT', 'OTHER'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

export const VICTIM_CATEGORIES = ['TRAFFICKING_VICTIM', 'MISSING_MINOR', 'OTHER_VULNERABLE'] as const;
export type VictimCategory = (typeof VICTIM_CATEGORIES)[number];

/** Parts of an alert that a policy may oblige the gate to remove for a recipient. */
export const FIELD_GROUPS = ['BIOMETRICS', 'IDENTITY_DOCUMENTS', 'VICTIM_DETAILS'] as const;
export type FieldGroup = (typeof FIELD_GROUPS)[number];

export interface Reference {
  alertId: string;
  version: number;
}

export interface Addressing {
  mode: AddressingMode;
  regions: Region[];
  agencies: string[];
}

export interface Area {
  description: string;
  countries: string[];
}

export interface Biometrics {
  fingerprintRefs: string[];
  dnaProfileRef: string | null;
  photoRefs: string[];
}

export interface IdentityDocument {
  kind: DocumentKind;
  number: string;
  issuingCountry: string;
}

export interface VictimDetails {
  category: VictimCategory;
  details: string;
  lastSeen: string | null;
}

export interface Subject {
  familyName: string | null;
  forenames: string | null;
  dateOfBirth: string | null;
  nationalities: string[];
  sex: 'F' | 'M' | 'X' | 'U' | null;
  biometrics: Biometrics | null;
  identityDocuments: IdentityDocument[];
  victim: VictimDetails | null;
}

export interface Alert {
  alertId: string;
  version: number;
  sender: string;
  senderRegion: Region;
  sent: Date;
  status: Status;
  exerciseId: string | null;
  msgType: MsgType;
  references: Reference[];
  scope: Scope;
  noticeType: NoticeType;
  purposes: Purpose[];
  headline: string;
  description: string;
  urgency: Urgency;
  severity: Severity;
  certainty: Certainty;
  tlp: Tlp;
  handlingCode: HandlingCode;
  sourceReliability: SourceReliability;
  /** 1 (known true) to 4 (not known). */
  informationAccuracy: number;
  addressing: Addressing;
  releasableTo: string[];
  neverTo: string[];
  consentedThirdCountries: string[];
  capitalOffence: boolean;
  doNotActOn: string[];
  expires: Date | null;
  area: Area;
  subject: Subject | null;
}
