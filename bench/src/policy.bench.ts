import { join } from 'node:path';
import { sampleFullAlert } from '@backbone/codec/testing';
import { compilePolicy, decide, loadPolicy, syntheticRegistry } from '@backbone/policy';
import { cedarBaseline } from '@backbone/policy/cedar';
import { figure, type Figures } from './figures.js';
import { median, percentile, sampleMicros } from './stats.js';

/**
 * One alert decided for 196 member agencies at once, against the same rules evaluated pair
 * by pair through Cedar (WebAssembly), in the same process and run.
 */
export function benchPolicy(repoRoot: string, quick: boolean): Figures {
  const registry = syntheticRegistry(196);
  const policy = loadPolicy(join(repoRoot, 'policies'));
  const compiled = compilePolicy(registry, policy);
  const now = new Date();
  const sender = registry.agencies[0]!.code;
  // A realistic heavy case: subject with every field group, flags, exclusions.
  const alert = {
    ...sampleFullAlert(),
    sender,
    senderRegion: registry.agencies[0]!.region,
    sent: new Date(now.getTime() - 60_000),
    expires: new Date(now.getTime() + 86_400_000),
    status: 'Actual' as const,
    exerciseId: null,
    addressing: { mode: 'ALL' as const, regions: [], agencies: [] },
    neverTo: [registry.agencies[5]!.code],
    releasableTo: [],
  };

  const engine = sampleMicros(() => decide(alert, compiled, now), quick ? 2_000 : 20_000);
  const cedar = cedarBaseline(compiled);
  const target = registry.agencies[7]!.code;
  const pair = sampleMicros(() => cedar.decidePair(alert, target, now), quick ? 300 : 3_000);
  const cedarPairMedian = median(pair);
  const cedarAll196 = cedarPairMedian * registry.agencies.length;

  // SIENA's scale: one alert over 2,000 competent authorities (the whole recipient set at once).
  const big = syntheticRegistry(2000);
  const bigCompiled = compilePolicy(big, policy);
  const bigAlert = { ...alert, sender: big.agencies[0]!.code, senderRegion: big.agencies[0]!.region, neverTo: [big.agencies[5]!.code] };
  const engine2000 = sampleMicros(() => decide(bigAlert, bigCompiled, now), quick ? 300 : 3_000);

  return {
    'policy.engine.alert2000_median_us': figure(
      median(engine2000),
      'µs',
      100,
      `one alert over a 2,000-authority synthetic registry (p99 ${percentile(engine2000, 99).toFixed(0)} µs); ceiling: the 100 µs goal`,
    ),
    'policy.engine.alert196_median_us': figure(median(engine), 'µs', cedarAll196, 'ceiling: Cedar pair median × 196 (lower is better)'),
    'policy.engine.alert196_p99_us': figure(percentile(engine, 99), 'µs', cedarAll196, 'ceiling: Cedar pair median × 196'),
    'policy.cedar.pair_median_us': figure(cedarPairMedian, 'µs', null, '@cedar-policy/cedar-wasm, one alert × one agency'),
  };
}
