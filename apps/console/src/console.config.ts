import { loadConfig, settings, type ConfigOf } from '@backbone/bootstrap';

/** Where the console finds the services it fronts (HOST/PORT/LOG_LEVEL come from SERVICE_SETTINGS). */
export const CONSOLE_SETTINGS = {
  CONSOLE_PUBLISHER_URL: settings.string({
    description: 'notice-publisher base URL (liaison-office API)',
    default: 'http://127.0.0.1:8080',
  }),
  CONSOLE_GATE_URL: settings.string({ description: 'policy-gate base URL (recipient preview)', default: 'http://127.0.0.1:8081' }),
  CONSOLE_AUDIT_URL: settings.string({ description: 'audit-logger base URL (compliance API)', default: 'http://127.0.0.1:8082' }),
  CONSOLE_SUBSCRIBERS: settings.string({
    description: 'Each agency subscriber the console fronts, as CODE=URL pairs separated by commas (FR-NCB=http://127.0.0.1:8100,...)',
    default: '',
  }),
  CONSOLE_WEB_DIR: settings.optionalString({ description: 'Directory of the built web app; unset: dist/console-web in the repository' }),
} as const;

export type ConsoleSettings = ConfigOf<typeof CONSOLE_SETTINGS>;

export function loadConsoleSettings(env: NodeJS.ProcessEnv = process.env): ConsoleSettings {
  return loadConfig(CONSOLE_SETTINGS, env);
}

/** Parses CONSOLE_SUBSCRIBERS; a malformed pair is a start-up error, never silently dropped. */
export function parseSubscribers(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Z0-9][A-Z0-9_-]{1,39})=(https?:\/\/\S+)$/.exec(pair);
    if (!m) throw new Error(`CONSOLE_SUBSCRIBERS: "${pair}" is not CODE=http(s)://host:port`);
    out.set(m[1]!, m[2]!.replace(/\/+$/, ''));
  }
  return out;
}
