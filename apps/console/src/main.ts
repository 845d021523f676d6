import { fileURLToPath } from 'node:url';
import { createLogger, describeConfig, loadServiceSettings, runMain } from '@backbone/bootstrap';
import { CONSOLE_SETTINGS, loadConsoleSettings, parseSubscribers } from './console.config.js';
import { startConsoleServer } from './console.server.js';

runMain('console', async () => {
  const service = loadServiceSettings(process.env, 8090);
  const logger = createLogger('console', service.LOG_LEVEL);
  const settings = loadConsoleSettings(process.env);
  // dist/apps/console/src/main.js → dist/console-web
  const webDir = settings.CONSOLE_WEB_DIR ?? fileURLToPath(new URL('../../../console-web', import.meta.url));
  logger.info({ config: describeConfig(CONSOLE_SETTINGS, settings), webDir }, 'console configured');
  const running = await startConsoleServer({
    targets: {
      publisher: settings.CONSOLE_PUBLISHER_URL,
      gate: settings.CONSOLE_GATE_URL,
      audit: settings.CONSOLE_AUDIT_URL,
      subscribers: parseSubscribers(settings.CONSOLE_SUBSCRIBERS),
    },
    webDir,
    logger,
    port: service.PORT,
    host: service.HOST,
  });
  logger.info({ url: running.url }, 'console listening');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void running.close().then(() => process.exit(0)));
});
