import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { backboneHome } from '@backbone/persistence';

/** Ed25519 key that signs chain heads; the key id is derived from the public key so it cannot lie. */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** key id: first 16 hex digits of SHA-256 over the SPKI DER of the public key. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** Writes a new PKCS#8 PEM Ed25519 key (mode 0600) unless one exists; returns the key either way. */
/** Where the audit logger keeps its checkpoint key unless told otherwise (the CLI's verify reads it too). */
export function defaultSigningKeyFile(): string {
  return join(backboneHome(), 'audit', 'signing-key.pem');
}

export function generateSigningKey(path: string): SigningKey {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  try {
    // 'wx': never overwrite an existing key (that would orphan every checkpoint it signed).
    writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return loadSigningKey(path);
}

export function loadSigningKey(path: string): SigningKey {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`Invalid setting AUDIT_SIGNING_KEY_FILE: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`Invalid setting AUDIT_SIGNING_KEY_FILE: ${path} is not an Ed25519 key`);
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

/** The signed message binds the sequence number to the head, so a signature cannot be moved to another row. */
export function checkpointMessage(seq: string, headHash: Buffer): Buffer {
  return Buffer.from(`backbone-audit-checkpoint:v1:${seq}:${headHash.toString('hex')}`, 'utf8');
}

export function signCheckpoint(key: SigningKey, seq: string, headHash: Buffer): Buffer {
  return sign(null, checkpointMessage(seq, headHash), key.privateKey);
}

export function verifyCheckpoint(publicKey: KeyObject, seq: string, headHash: Buffer, signature: Buffer): boolean {
  try {
    return verify(null, checkpointMessage(seq, headHash), publicKey, signature);
  } catch {
    return false;
  }
}
