/**
 * A valid body for the publisher's `POST /alerts`: a red notice for armed robbery, addressed to
 * every agency, expiring in a week. Tests change only what they are about (`overrides` replaces
 * top-level fields), so one fixture follows the API when its input grows.
 */
export function alertInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status: 'Actual',
    scope: 'Restricted',
    noticeType: 'RED',
    purposes: ['ARREST_EXTRADITION'],
    headline: 'Wanted for armed robbery',
    description: 'Sought for prosecution for armed robbery committed in Lyon.',
    urgency: 'Immediate',
    severity: 'Severe',
    certainty: 'Likely',
    tlp: 'AMBER',
    handlingCode: 'H1',
    sourceReliability: 'B',
    informationAccuracy: 2,
    addressing: { mode: 'ALL' },
    expires: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    area: { description: 'Schengen area', countries: ['FR', 'DE'] },
    ...overrides,
  };
}
