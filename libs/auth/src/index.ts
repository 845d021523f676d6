export { issueToken, hashToken, tokenId, tokenMatches, bearerFrom, type IssuedToken } from './bearer-token.js';
export { ROLES, Roles, Public, ROLES_METADATA, PUBLIC_METADATA, type Role } from './roles.js';
export {
  CREDENTIAL_VERIFIER,
  principalOf,
  isIdentifiedRefusal,
  type GuardRefusal,
  type AuthenticatedRequest,
  type CredentialVerifier,
  type Principal,
  type Verification,
  type VerifierRefusal,
} from './principal.js';
export { RolesGuard, AuthRefusal } from './roles.guard.js';
export { routeInventory, assertEveryRouteDeclaresRoles, type RouteEntry } from './route.inventory.js';
