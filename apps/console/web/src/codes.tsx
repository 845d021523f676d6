// The API's enumerations, as the publisher's OpenAPI document lists them (libs/codec alert.types).
export const NOTICE_TYPES = ['RED', 'YELLOW', 'BLUE', 'BLACK', 'GREEN', 'ORANGE', 'PURPLE', 'UN_SPECIAL', 'DIFFUSION'];
export const STATUSES = ['Actual', 'Exercise', 'System', 'Test', 'Draft'];
export const SCOPES = ['Public', 'Restricted', 'Private'];
export const URGENCIES = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'];
export const SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'];
export const CERTAINTIES = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'];
export const TLPS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER_STRICT', 'RED'];
export const HANDLING_CODES = ['H0', 'H1', 'H2', 'H3'];
export const SOURCE_RELIABILITIES = ['A', 'B', 'C', 'X'];
export const ADDRESSING_MODES = ['ALL', 'REGIONS', 'EXPLICIT'];
export const REGIONS = ['AFRICA', 'AMERICAS', 'ASIA_SOUTH_PACIFIC', 'EUROPE', 'MIDDLE_EAST_NORTH_AFRICA'];
export const PURPOSES = [
  'ARREST_EXTRADITION',
  'LOCATE_PERSON',
  'IDENTIFY_PERSON',
  'WARN_THREAT',
  'MODUS_OPERANDI',
  'CRIMINAL_INVESTIGATION',
  'COUNTER_TERRORISM',
  'HUMANITARIAN',
];

export const splitList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
