import { describe, expect, it } from '@jest/globals';
import { readPreviewAlert } from './preview-alert.reader.js';

const now = new Date('2026-11-29T00:00:00Z');

describe('readPreviewAlert', () => {
  it('reads a draft as the alert the publisher would submit for the sender, with the stored defaults', () => {
    const r = readPreviewAlert(
      {
        noticeType: 'RED',
        tlp: 'AMBER',
        handlingCode: 'H1',
        addressing: { mode: 'REGIONS', regions: ['EUROPE'] },
        area: { description: 'x', countries: ['FR'] },
        neverTo: ['DE-NCB'],
      },
      'FR-NCB',
      'EUROPE',
      now,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.alert).toMatchObject({
      sender: 'FR-NCB',
      senderRegion: 'EUROPE',
      sent: now,
      status: 'Actual',
      msgType: 'Alert',
      version: 1,
      noticeType: 'RED',
      addressing: { mode: 'REGIONS', regions: ['EUROPE'], agencies: [] },
      neverTo: ['DE-NCB'],
      releasableTo: [],
      subject: null,
      expires: null,
    });
  });

  it('names every field whose value the policy cannot decide on, instead of guessing', () => {
    const r = readPreviewAlert(
      {
        noticeType: 'PINK',
        tlp: 'AMBER',
        addressing: { mode: 'ALL', agencies: ['de-ncb'] },
        purposes: ['FUN'],
        informationAccuracy: 9,
        expires: 'soon',
      },
      'FR-NCB',
      'EUROPE',
      now,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.field).sort()).toEqual([
      '/addressing/agencies',
      '/expires',
      '/handlingCode',
      '/informationAccuracy',
      '/noticeType',
      '/purposes',
    ]);
  });

  it('refuses a body that is not a JSON object', () => {
    for (const body of [null, [], 'x', 3]) expect(readPreviewAlert(body, 'FR-NCB', 'EUROPE', now).ok).toBe(false);
  });
});
