import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { eventKeyId, eventKeyringOf, type EventKeyring, type EventSigningKey } from '@backbone/codec';

// Event keys on disk, provisioned with the Kafka principals (`backbone infra up`, rotated by
// `backbone infra rotate`). Each principal's private key is its own file (mode 600), handed
// only to that service; the public keys of every principal, old ones included, are one file
// that the audit logger reads. The audit logger never holds another principal's private key.

/** `{signer, privateKey}`: the file a service is given as EVENT_SIGNING_KEY_FILE. */
interface PrivateKeyFile {
  signer: string;
  privateKey: string;
}

/** `{keys: [{signer, keyId, publicKey}]}`: EVENT_PUBLIC_KEYS_FILE of the audit logger. */
export interface PublicKeysFile {
  keys: { signer: string; keyId: string; publicKey: string; addedAt: string }[];
}

export function readEventSigningKey(path: string): EventSigningKey {
  const file = JSON.parse(readFileSync(path, 'utf8')) as PrivateKeyFile;
  if (typeof file.signer !== 'string' || typeof file.privateKey !== 'string') throw new Error(`${path}: not an event signing key file`);
  const privateKey = createPrivateKey(file.privateKey);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${path}: event keys are Ed25519`);
  return { signer: file.signer, keyId: eventKeyId(createPublicKey(privateKey)), privateKey };
}

export function readEventKeyring(path: string): EventKeyring {
  return eventKeyringOf(readPublicKeys(path).keys);
}

export function readPublicKeys(path: string): PublicKeysFile {
  if (!existsSync(path)) return { keys: [] };
  const file = JSON.parse(readFileSync(path, 'utf8')) as PublicKeysFile;
  if (!Array.isArray(file.keys)) throw new Error(`${path}: not an event public keys file`);
  return file;
}

/**
 * A new Ed25519 key for `signer`: the private key replaces its file (mode 600, written then renamed
 * so a reader never sees half a key), the public key is appended to the public keys file.
 */
export function generateEventKey(privateKeyPath: string, publicKeysPath: string, signer: string): EventSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  mkdirSync(dirname(privateKeyPath), { recursive: true, mode: 0o700 });
  const tmp = `${privateKeyPath}.tmp`;
  const body: PrivateKeyFile = { signer, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  writeFileSync(tmp, JSON.stringify(body), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, privateKeyPath);
  const keyId = eventKeyId(publicKey);
  const pub = readPublicKeys(publicKeysPath);
  pub.keys.push({
    signer,
    keyId,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    addedAt: new Date().toISOString(),
  });
  mkdirSync(dirname(publicKeysPath), { recursive: true, mode: 0o700 });
  writeFileSync(`${publicKeysPath}.tmp`, JSON.stringify(pub, null, 2), { mode: 0o644 });
  renameSync(`${publicKeysPath}.tmp`, publicKeysPath);
  return { signer, keyId, privateKey };
}
