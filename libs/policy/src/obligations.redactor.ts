import type { Alert, FieldGroup, Subject } from '@backbone/codec';
import type { RecipientOutcome } from './decision.types.js';

/**
 * The copy of `alert` one recipient may see: its redacted groups removed, and the originator's
 * exclusion lists (neverTo, consentedThirdCountries) emptied — who was kept out, or who needed
 * consent, is the originator's business, never a recipient's. releasableTo stays: it is the
 * handling caveat ("releasable to ...") the recipient must obey before passing anything on. Never mutates
 * `alert`; the result shares nothing mutable with it, so a caller may change it freely.
 * Throws for a DENY outcome: a denied recipient must not get a copy at all.
 */
export function applyObligations(alert: Alert, outcome: Pick<RecipientOutcome, 'agency' | 'outcome' | 'redactedGroups'>): Alert {
  if (outcome.outcome === 'DENY') {
    throw new Error(`applyObligations: ${outcome.agency} is denied alert ${alert.alertId}; nothing may be delivered`);
  }
  const copy = copyAlert(alert);
  copy.neverTo = [];
  copy.consentedThirdCountries = [];
  if (copy.subject !== null) redact(copy.subject, outcome.redactedGroups);
  return copy;
}

function redact(subject: Subject, groups: readonly FieldGroup[]): void {
  for (const group of groups) {
    switch (group) {
      case 'BIOMETRICS':
        subject.biometrics = null;
        break;
      case 'IDENTITY_DOCUMENTS':
        subject.identityDocuments = [];
        break;
      case 'VICTIM_DETAILS':
        subject.victim = null;
        break;
    }
  }
}

// Field by field rather than structuredClone: structuredClone creates its Dates in the main
// realm, which under Jest's VM modules fails `instanceof Date` checks in the codec.
function copyAlert(alert: Alert): Alert {
  const subject = alert.subject;
  return {
    ...alert,
    sent: new Date(alert.sent.getTime()),
    expires: alert.expires === null ? null : new Date(alert.expires.getTime()),
    references: alert.references.map((reference) => ({ ...reference })),
    purposes: [...alert.purposes],
    addressing: { mode: alert.addressing.mode, regions: [...alert.addressing.regions], agencies: [...alert.addressing.agencies] },
    releasableTo: [...alert.releasableTo],
    neverTo: [...alert.neverTo],
    consentedThirdCountries: [...alert.consentedThirdCountries],
    doNotActOn: [...alert.doNotActOn],
    area: { description: alert.area.description, countries: [...alert.area.countries] },
    subject:
      subject === null
        ? null
        : {
            ...subject,
            nationalities: [...subject.nationalities],
            biometrics:
              subject.biometrics === null
                ? null
                : {
                    ...subject.biometrics,
                    fingerprintRefs: [...subject.biometrics.fingerprintRefs],
                    photoRefs: [...subject.biometrics.photoRefs],
                  },
            identityDocuments: subject.identityDocuments.map((document) => ({ ...document })),
            victim: subject.victim === null ? null : { ...subject.victim },
          },
  };
}
