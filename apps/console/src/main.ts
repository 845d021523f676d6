import { fileURLToPath } from 'node:url';
import { createLogger, describeConfig, loadServiceSettings, runMain, startService } from '@backbone/bootstrap';
import { CONSOLE_SETTINGS, loadConsoleSettings, parseSubscribers } from './console.config.js';
import { ConsoleModule } from './console.module.js';

runMain('console', async () => {
  const service = loadServiceSettings(process.env, 8090);
  const logger = createLogger('console', service.LOG_LEVEL);
  const settings = loadConsoleSettings(process.env);
  // dist/apps/console/src/main.js → dist/console-web
  const webDir = settings.CONSOLE_WEB_DIR ?? fileURLToPath(new URL('../../../console-web', import.meta.url));
  logger.info({ config: describeConfig(CONSOLE_SETTINGS, settings), webDir }, 'console configured');
  const targets = {
    publisher: settings.CONSOLE_PUBLISHER_URL,
    gate: settings.CONSOLE_GATE_URL,
    audit: settings.CONSOLE_AUDIT_URL,
    subscribers: parseSubscribers(settings.CONSOLE_SUBSCRIBERS),
  };
  await startService({
    name: 'console',
    module: ConsoleModule.forRoot({ targets, webDir, logger }),
    logger,
    port: service.PORT,
    host: service.HOST,
  });
});
