// Liaison office tokens verified by the services that did not issue them (policy gate, audit
// logger): the publisher's introspection route and its caching client. See ADR 0007.
export {
  INTROSPECTION_PATH,
  MAX_INTROSPECTION_CACHE_MS,
  IntrospectionUnavailable,
  OfficeIntrospectionClient,
  verifyOfficeToken,
  type IntrospectedOffice,
  type IntrospectionAnswer,
  type OfficeIntrospectionOptions,
} from './office-introspection.js';
export {
  OFFICE_INTROSPECTION_SETTINGS,
  officeIntrospectionFromEnv,
  parseIntrospectionClients,
  type OfficeIntrospectionSettings,
} from './office-introspection.config.js';
