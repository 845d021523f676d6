// The audit ledger's storage and proofs, shared by the audit logger (which writes and serves it)
// and the CLI (which migrates, verifies and what-ifs it as the database owner). No Nest wiring here.
export {
  ANCHOR_READER_GROUP_PREFIX,
  anchorsOfLedger,
  AnchorsUnreadableError,
  CheckpointAnchor,
  mergeAnchors,
  readAnchorsFromFile,
  readAnchorsFromKafka,
} from './checkpoint.anchor.js';
export type { Anchor, SignedCheckpoint } from './checkpoint.anchor.js';
export { defaultSigningKeyFile, generateSigningKey, loadSigningKey, signCheckpoint, type SigningKey } from './checkpoint-signer.js';
export type { LedgerEntry } from './canonical-event.serializer.js';
export { chainEntries, entryHash, GENESIS_HASH } from './hash-chain.js';
export {
  copyFieldsToRow,
  entryToParams,
  LEDGER_COLUMNS,
  LEDGER_COPY_SELECT,
  LEDGER_SELECT,
  PARKED_REASON,
  rowToEntry,
  rowToJson,
  UNDECODABLE_REASON,
  type LedgerRow,
} from './ledger-row.mapper.js';
export {
  appDatabaseUrl,
  appRolePassword,
  AUDIT_SCHEMA,
  checkLedgerSchema,
  DEFAULT_APP_ROLE,
  LEDGER_SCHEMA_VERSION,
  LedgerNotMigratedError,
  migrateLedger,
  provisionLedger,
  readLedgerId,
} from './ledger.schema.js';
export { verifyLedger, type AnchorEvidence, type VerifyReport } from './ledger.verifier.js';
export { forgeryOf } from './emitter.rules.js';
export { COMPLIANCE_REPLAYER_ROLE, COMPLIANCE_ROLE, issueComplianceUser, type ComplianceUser } from './compliance-users.js';
export { CandidatePolicyError, cliCandidate, whatIf, type PolicyCandidate, type WhatIfResult } from './what-if.service.js';
