import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { HealthRegistry } from '@backbone/bootstrap';
import { pingDatabase } from '@backbone/persistence';
import { PUBLISHER_DATA_SOURCE } from '../publisher.tokens.js';
import { AlertStore } from './alert.store.js';
import { CredentialStore, openPublisherDatabase, publisherDatabaseUrl } from '@backbone/office-store';
import { IdempotencyStore } from './idempotency.store.js';

@Injectable()
class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(PUBLISHER_DATA_SOURCE) private readonly ds: DataSource,
    private readonly health: HealthRegistry,
  ) {}
  onModuleInit(): void {
    this.health.register({
      name: 'database',
      check: async () => {
        const r = await pingDatabase(this.ds);
        if (!r.ok) throw new Error(r.error ?? 'database did not answer');
      },
    });
  }
  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

/** The publisher's PostgreSQL state: credentials, idempotency keys, the offices' alerts. */
@Global()
@Module({})
export class PublisherPersistenceModule {
  /** Opens (and migrates) the publisher's database at start-up: the URL given, else the one @backbone/persistence finds. */
  static forRoot(databaseUrl: string | null): DynamicModule {
    return {
      module: PublisherPersistenceModule,
      providers: [
        { provide: PUBLISHER_DATA_SOURCE, useFactory: async () => openPublisherDatabase(await publisherDatabaseUrl(databaseUrl)) },
        { provide: CredentialStore, inject: [PUBLISHER_DATA_SOURCE], useFactory: (ds: DataSource) => new CredentialStore(ds) },
        { provide: IdempotencyStore, inject: [PUBLISHER_DATA_SOURCE], useFactory: (ds: DataSource) => new IdempotencyStore(ds) },
        { provide: AlertStore, inject: [PUBLISHER_DATA_SOURCE], useFactory: (ds: DataSource) => new AlertStore(ds) },
        DatabaseLifecycle,
      ],
      exports: [PUBLISHER_DATA_SOURCE, CredentialStore, IdempotencyStore, AlertStore],
    };
  }
}
