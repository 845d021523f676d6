import { describe, expect, it } from '@jest/globals';
import { decideResume, LedgerPositionConflict } from './ledger.positions.js';

const T = 'audit.events';
const marks = (...m: [number, number, number][]): { partition: number; low: bigint; high: bigint }[] =>
  m.map(([partition, low, high]) => ({ partition, low: BigInt(low), high: BigInt(high) }));

describe('decideResume', () => {
  it('resumes each partition at the ledger position, even behind the committed offsets (database restore)', () => {
    const plan = decideResume(
      T,
      0,
      new Map([
        [0, 8n],
        [1, 3n],
      ]),
      marks([0, 0, 20], [1, 0, 3]),
    );
    expect(plan).toEqual({
      ledgerTopic: T,
      generation: 0,
      recreated: false,
      partitions: [
        { partition: 0, offset: '8' },
        { partition: 1, offset: '3' },
      ],
    });
  });

  it('reads from the log start a partition the ledger has never seen', () => {
    expect(decideResume(T, 0, new Map(), marks([0, 5, 9])).partitions).toEqual([{ partition: 0, offset: '5' }]);
  });

  it('opens a new generation when offsets went backwards (topic recreated)', () => {
    const plan = decideResume(T, 1, new Map([[0, 10n]]), marks([0, 0, 4]));
    expect(plan).toEqual({ ledgerTopic: `${T}#g2`, generation: 2, recreated: true, partitions: [{ partition: 0, offset: '0' }] });
  });

  it('refuses when events after the ledger position were deleted', () => {
    expect(() => decideResume(T, 0, new Map([[0, 3n]]), marks([0, 7, 10]))).toThrow(LedgerPositionConflict);
  });

  it('refuses when a recreated topic no longer starts at 0', () => {
    expect(() => decideResume(T, 0, new Map([[0, 10n]]), marks([0, 2, 4]))).toThrow(/recreated/);
  });
});
