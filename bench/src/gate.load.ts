import { randomUUID } from 'node:crypto';
import type { Alert, HandlingCode, NoticeType, Tlp } from '@backbone/codec';
import { sampleAlert, sampleSubject } from '@backbone/codec/testing';
import type { RecipientOutcome } from '@backbone/policy';

export interface Sender {
  code: string;
  region: Alert['senderRegion'];
}

const VARIANTS: { noticeType: NoticeType; purposes: Alert['purposes']; tlp: Tlp; handlingCode: HandlingCode; subject: boolean }[] = [
  { noticeType: 'RED', purposes: ['ARREST_EXTRADITION'], tlp: 'AMBER', handlingCode: 'H1', subject: false },
  { noticeType: 'YELLOW', purposes: ['LOCATE_PERSON'], tlp: 'GREEN', handlingCode: 'H0', subject: true },
  { noticeType: 'BLUE', purposes: ['LOCATE_PERSON'], tlp: 'AMBER', handlingCode: 'H1', subject: true },
  { noticeType: 'RED', purposes: ['ARREST_EXTRADITION'], tlp: 'GREEN', handlingCode: 'H0', subject: true },
];

/**
 * The i-th benchmark alert: sampleAlert-based, Actual, addressed to ALL, from a rotating
 * registry sender, varying notice type, TLP, handling code and whether a subject (every field
 * group, so redaction work) is attached. `neverTo` keeps agencies out (e.g. the one whose inbox
 * the end-to-end figure watches, so this load never becomes its backlog).
 */
export function benchAlert(i: number, senders: readonly Sender[], now: Date, neverTo: string[] = []): Alert {
  const sender = senders[i % senders.length]!;
  const v = VARIANTS[i % VARIANTS.length]!;
  return sampleAlert({
    alertId: randomUUID(),
    sender: sender.code,
    senderRegion: sender.region,
    sent: new Date(now.getTime() - 1000),
    expires: new Date(now.getTime() + 30 * 86_400_000),
    noticeType: v.noticeType,
    purposes: v.purposes,
    tlp: v.tlp,
    handlingCode: v.handlingCode,
    headline: `Benchmark alert ${i}`,
    subject: v.subject ? sampleSubject() : null,
    neverTo: neverTo.filter((a) => a !== sender.code),
  });
}

/** Deliveries the gate writes for a first version (no recall): the allowed outcomes. */
export function deliveriesOf(outcomes: readonly Pick<RecipientOutcome, 'outcome'>[]): number {
  return outcomes.filter((o) => o.outcome === 'ALLOW' || o.outcome === 'ALLOW_WITH_OBLIGATIONS').length;
}
