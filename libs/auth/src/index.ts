export { issueToken, hashToken, tokenId, tokenMatches, bearerFrom, type IssuedToken } from './bearer-token.js';
