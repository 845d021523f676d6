import { describe, expect, it } from '@jest/globals';
import { ancestorsOf, canTraverse, firstUntraversable, type DirMode, type OsUser } from './data-dir.permissions.js';

const postgres: OsUser = { name: 'postgres', uid: 101, gid: 104 };
const rootOwned = (mode: number): DirMode => ({ mode, uid: 0, gid: 0 });

describe('canTraverse', () => {
  it('uses the owner, group or other execute bit, whichever class applies', () => {
    expect(canTraverse(rootOwned(0o755), postgres)).toBe(true);
    expect(canTraverse(rootOwned(0o750), postgres)).toBe(false);
    expect(canTraverse(rootOwned(0o711), postgres)).toBe(true);
    expect(canTraverse({ mode: 0o710, uid: 0, gid: 104 }, postgres)).toBe(true);
    // Owner bits only, even if "other" would allow it: that is how the kernel decides.
    expect(canTraverse({ mode: 0o601, uid: 101, gid: 0 }, postgres)).toBe(false);
    expect(canTraverse({ mode: 0o700, uid: 101, gid: 104 }, postgres)).toBe(true);
  });
});

describe('ancestorsOf / firstUntraversable', () => {
  it('lists the directories one passes through, root first', () => {
    expect(ancestorsOf('/work/main/.backbone')).toEqual(['/', '/work', '/work/main']);
  });

  it('finds the first blocking directory', () => {
    const modes: Record<string, DirMode> = { '/': rootOwned(0o755), '/root': rootOwned(0o700), '/root/x': rootOwned(0o755) };
    expect(firstUntraversable(ancestorsOf('/root/x/home'), (d) => modes[d] ?? rootOwned(0o755), postgres)).toBe('/root');
    expect(firstUntraversable(ancestorsOf('/tmp/home'), () => rootOwned(0o1777), postgres)).toBeUndefined();
  });
});
