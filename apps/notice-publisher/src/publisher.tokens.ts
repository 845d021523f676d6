/** Nest injection tokens of notice-publisher's own providers. */
export const PUBLISHER_CONFIG = Symbol('PUBLISHER_CONFIG');
export const PUBLISHER_DATA_SOURCE = Symbol('PUBLISHER_DATA_SOURCE');
export const AGENCY_DIRECTORY = Symbol('AGENCY_DIRECTORY');
export const SERVICE = 'notice-publisher';
