import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { CREDENTIAL_VERIFIER, Public, Roles, type CredentialVerifier } from '@backbone/auth';
import { createLogger } from './logger.js';
import { startService } from './service.bootstrap.js';

// Every case fails before the server listens: no socket is opened.
const logger = createLogger('bootstrap-spec', 'silent');
const verifier: CredentialVerifier = { verify: async () => ({ ok: false, reason: 'unknown-credential' }) };
const verifierProvider = { provide: CREDENTIAL_VERIFIER, useValue: verifier };

@Controller('guarded')
@Roles('operator')
class GuardedController {
  @Get()
  get(): string {
    return 'ok';
  }
}

@Controller('open')
class UndeclaredController {
  @Get()
  @Public()
  declared(): string {
    return 'ok';
  }

  @Get('forgotten')
  forgotten(): string {
    return 'oops';
  }
}

@Injectable()
class RawRouteAdder implements OnModuleInit {
  constructor(private readonly host: HttpAdapterHost) {}
  onModuleInit(): void {
    (this.host.httpAdapter.getInstance() as FastifyInstance).get('/side-door', async () => 'in');
  }
}

describe('startService', () => {
  it('refuses to start when a route declares neither roles nor public, naming it', async () => {
    @Module({ controllers: [GuardedController, UndeclaredController], providers: [verifierProvider] })
    class AppModule {}
    await expect(startService({ name: 't', module: AppModule, logger, port: 0, shutdownHooks: false })).rejects.toThrow(
      /routes without @Roles or @Public: GET \/open\/forgotten \(UndeclaredController\.forgotten\)/,
    );
  });

  it('refuses to start without a credential verifier', async () => {
    @Module({ controllers: [GuardedController] })
    class AppModule {}
    await expect(startService({ name: 't', module: AppModule, logger, port: 0, shutdownHooks: false })).rejects.toThrow(
      /provides no CREDENTIAL_VERIFIER/,
    );
  });

  it('refuses to start when Fastify has a route the roles check did not see', async () => {
    @Module({ controllers: [GuardedController], providers: [verifierProvider, RawRouteAdder] })
    class AppModule {}
    await expect(startService({ name: 't', module: AppModule, logger, port: 0, shutdownHooks: false })).rejects.toThrow(
      /routes outside the roles check: GET \/side-door/,
    );
  });
});
