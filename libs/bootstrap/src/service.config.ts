import { loadConfig, settings, type ConfigOf } from './config.js';

/** Settings every service has: where it listens and how much it logs. */
export const SERVICE_SETTINGS = {
  HOST: settings.string({ description: 'Interface the HTTP server binds to', default: '127.0.0.1' }),
  PORT: settings.port({ description: 'HTTP port for the API, health and metrics (0 = any free port)', default: 0 }),
  LOG_LEVEL: settings.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    description: 'Lowest log level written',
    default: 'info',
  }),
} as const;

export type ServiceSettings = ConfigOf<typeof SERVICE_SETTINGS>;

export function loadServiceSettings(env: NodeJS.ProcessEnv = process.env, defaultPort = 0): ServiceSettings {
  return loadConfig(
    { ...SERVICE_SETTINGS, PORT: settings.port({ description: SERVICE_SETTINGS.PORT.description, default: defaultPort }) },
    env,
  );
}
