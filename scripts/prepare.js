// Shared by `npm test`, `npm start` and `npm run bench`: install what is missing and build once.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function run(label, cmd, args, opts = {}) {
  const started = Date.now();
  process.stdout.write(`\n▶ ${label}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: opts.stdio ?? 'inherit', env: { ...process.env, ...opts.env } });
  process.stdout.write(
    `◀ ${label}: ${r.status === 0 ? 'ok' : `failed (exit ${r.status})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return r.status === 0;
}

/** npm ci when node_modules is missing or older than the lock file. */
export function installIfNeeded() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  const installed =
    (existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs)) ||
    run('install npm packages', 'npm', existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
  // Also for a node_modules installed before the patch existed (postinstall runs only on install).
  return installed && run('patch kafkajs (scripts/patch-kafkajs.js)', process.execPath, [join(root, 'scripts', 'patch-kafkajs.js')]);
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ unless it is newer than every source file. */
export function buildIfStale(stdio = 'inherit') {
  const stamp = join(root, 'dist', 'apps', 'cli', 'src', 'main.js');
  if (existsSync(stamp)) {
    const built = statSync(stamp).mtimeMs;
    const sources = Math.max(...['apps', 'libs', 'bench'].map((d) => newestMtime(join(root, d))));
    if (built >= sources) return true;
  }
  return run('build', 'npm', ['run', '--silent', 'build'], { stdio });
}

/**
 * As root, embedded PostgreSQL runs as the `postgres` OS user, which must be able to traverse
 * every directory above the repository to reach its binaries in node_modules. A clone inside a
 * 0700 temporary directory blocks it; grant traverse-only (o+x, never read) on those ancestors,
 * the change the launcher's own error message asks for, and say what was changed.
 */
export function ensureAncestorsTraversable() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  for (let dir = root; dir !== parse(dir).root; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(dir, mode | 0o001);
      process.stdout.write(`granted o+x on ${dir} so the postgres OS user can reach the embedded PostgreSQL binaries\n`);
    }
  }
}

/**
 * A Debian package a test tier needs (its binary looked up on PATH), installed as root when missing:
 * a fresh machine has neither Chromium (console browser tests) nor iptables (the fault tier's
 * network partition).
 */
export function ensureDebianPackage(binary, pkg, why) {
  if (spawnSync('which', [binary], { stdio: 'ignore' }).status === 0) return true;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    process.stdout.write(`${binary} is missing and this is not root: run \`sudo apt-get update && sudo apt-get install -y ${pkg}\`\n`);
    return false;
  }
  return run(`install ${pkg} (Debian package, ${why})`, 'bash', [
    '-c',
    `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${pkg}`,
  ]);
}

export function ensureChromium() {
  return ensureDebianPackage('chromium', 'chromium', 'for the console browser tests');
}

export function ensureIptables() {
  return ensureDebianPackage('iptables', 'iptables', 'for the fault tier network partition');
}
