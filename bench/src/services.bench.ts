import type { BenchContext } from './bench.context.js';
import type { Ceilings } from './ceilings.bench.js';
import type { Figures } from './figures.js';

/** Publisher, gate, end-to-end, audit and memory figures: the services run as child processes. */
export async function benchServices(_ctx: BenchContext, _ceilings: Ceilings | null): Promise<Figures> {
  return {};
}
