import { Module, type DynamicModule } from '@nestjs/common';
import { startService } from '@backbone/bootstrap';
import { CREDENTIAL_VERIFIER, type CredentialVerifier, type Verification } from '@backbone/auth';
import { ConsoleController } from './console.controller.js';
import { ConsoleEdge } from './console.edge.js';
import type { ConsoleOptions } from './console.server.js';
import { CONSOLE_OPTIONS } from './console.tokens.js';

/**
 * The console has no tokens of its own: every route is public and the services behind the proxy
 * authenticate the bearer token it forwards. So its verifier admits nobody.
 */
export class NobodyVerifier implements CredentialVerifier {
  verify(): Promise<Verification> {
    return Promise.resolve({ ok: false, status: 401, reason: 'console-has-no-credentials' });
  }
}

@Module({})
export class ConsoleModule {
  static forRoot(options: ConsoleOptions): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [ConsoleController],
      providers: [{ provide: CONSOLE_OPTIONS, useValue: options }, { provide: CREDENTIAL_VERIFIER, useClass: NobodyVerifier }, ConsoleEdge],
    };
  }
}

export interface ConsoleServerOptions extends ConsoleOptions {
  port: number;
  host?: string;
  /** Close on SIGTERM/SIGINT (startService's default); off for a console inside a test process. */
  shutdownHooks?: boolean;
}

export interface RunningConsole {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the console through startService (the one start-up function); resolves once it listens. */
export async function startConsoleServer(opts: ConsoleServerOptions): Promise<RunningConsole> {
  const { targets, webDir, logger } = opts;
  const running = await startService({
    name: 'console',
    module: ConsoleModule.forRoot({ targets, webDir, logger }),
    logger,
    port: opts.port,
    host: opts.host,
    shutdownHooks: opts.shutdownHooks ?? false,
  });
  return { url: running.url, close: () => running.close() };
}
