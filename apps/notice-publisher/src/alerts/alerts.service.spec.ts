// Which failures release the Idempotency-Key and version reservations: only those known not to
// have reached the broker. Fakes stand in for the stores and the publisher (no Kafka, no database).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, jest } from '@jest/globals';
import { createLogger, MetricsService } from '@backbone/bootstrap';
import { KafkaConfig, type TopicNames } from '@backbone/kafka';
import type { Office } from '../auth/office-credential.verifier.js';
import type { PublisherConfig } from '../config/publisher.config.js';
import type { AlertRow, AlertStore } from '../persistence/alert.store.js';
import type { IdempotencyStore, Reservation } from '../persistence/idempotency.store.js';
import { PublishUnavailableError, type GroupCommitPublisher } from '../publishing/group-commit.publisher.js';
import type { PublicationReconciler } from '../reconcile/publication.reconciler.js';
import { agencyDirectoryOf } from '../registry/agency-directory.js';
import { validateAlertContent } from '../validation/alert-input.validator.js';
import { AlertsService } from './alerts.service.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const redNotice = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(repo, 'examples', 'alerts', 'red-notice.json'), 'utf8')) as Record<string, unknown>;
const agencies = agencyDirectoryOf([
  { code: 'FR-NCB', country: 'FR', region: 'EUROPE' },
  { code: 'DE-NCB', country: 'DE', region: 'EUROPE' },
  { code: 'US-NCB', country: 'US', region: 'AMERICAS' },
]);
/** The content as the store keeps it: validated (defaults filled in), as JSON. */
function storedContent(): Record<string, unknown> {
  const r = validateAlertContent(redNotice(), agencies);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return JSON.parse(JSON.stringify(r.content)) as Record<string, unknown>;
}
const office: Office = { agency: agencies.get('FR-NCB')! };
const ALERT_ID = '6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f';

function fixture(opts: { publish?: () => Promise<unknown>; reservation?: Reservation; afterPublishFails?: boolean } = {}) {
  const dbDown = (): Promise<never> => Promise.reject(new Error('database connection lost'));
  const alerts = {
    find: jest.fn(async (): Promise<AlertRow> => ({
      alertId: ALERT_ID,
      sender: 'FR-NCB',
      senderRegion: 'EUROPE',
      noticeType: 'RED',
      headline: 'h',
      state: 'active',
      latestVersion: 1,
      content: storedContent(),
      createdAt: new Date(),
      updatedAt: new Date(),
    })),
    reserveVersion: jest.fn(async () => true),
    releaseVersion: jest.fn<(alertId: string, version: number) => Promise<void>>(async () => undefined),
    recordCreated: jest.fn(opts.afterPublishFails ? dbDown : async () => undefined),
    recordVersion: jest.fn(opts.afterPublishFails ? dbDown : async () => undefined),
  };
  const idempotency = {
    reserve: jest.fn(async (): Promise<Reservation> => opts.reservation ?? { kind: 'reserved' }),
    complete: jest.fn(async () => undefined),
    release: jest.fn<(agency: string, key: string) => Promise<void>>(async () => undefined),
    attach: jest.fn(async (_agency: string, _key: string, _alertId: string, _version: number) => true),
  };
  const reconciler = { track: () => () => undefined, settleMs: 5000, settleVersion: jest.fn(async () => 'pending') };
  const publisher = {
    publish: jest.fn(
      opts.publish ??
        (async () => [
          { partition: 0, offset: '7' },
          { partition: 0, offset: '3' },
        ]),
    ),
  };
  const config = { settings: { RETRY_AFTER_SECONDS: 5 } } as unknown as PublisherConfig;
  const topics = { submitted: 'alerts.submitted', audit: 'audit.events' } as unknown as TopicNames;
  const service = new AlertsService(
    alerts as unknown as AlertStore,
    idempotency as unknown as IdempotencyStore,
    publisher as unknown as GroupCommitPublisher,
    agencies,
    topics,
    KafkaConfig.of({ brokers: [] }),
    config,
    createLogger('test', 'silent'),
    reconciler as unknown as PublicationReconciler,
    new MetricsService(),
  );
  return { service, alerts, idempotency, publisher };
}

describe('AlertsService reservations', () => {
  it('create: a database failure after the broker committed answers 201 and keeps the key reserved for the reconciler', async () => {
    const f = fixture({ afterPublishFails: true });
    await expect(f.service.create(office, redNotice(), 'k-1')).resolves.toMatchObject({
      statusCode: 201,
      body: { version: 1, partition: 0, offset: '7' },
    });
    expect(f.publisher.publish).toHaveBeenCalledTimes(1);
    expect(f.idempotency.release).not.toHaveBeenCalled();
    // Version 1 was reserved before publishing and stays pending for the reconciler.
    expect(f.alerts.reserveVersion).toHaveBeenCalledTimes(1);
    expect(f.alerts.releaseVersion).not.toHaveBeenCalled();
    expect(f.idempotency.attach).toHaveBeenCalledWith('FR-NCB', 'k-1', expect.any(String), 1);
  });

  it('a key released meanwhile (attach fails) publishes nothing and releases the version', async () => {
    const f = fixture();
    f.idempotency.attach.mockImplementation(async () => false);
    await expect(f.service.create(office, redNotice(), 'k-6')).rejects.toMatchObject({ problem: { problem: { status: 409 } } });
    expect(f.publisher.publish).not.toHaveBeenCalled();
    expect(f.alerts.releaseVersion).toHaveBeenCalledTimes(1);
  });

  it('update: a database failure after the broker committed answers 201 and keeps the key and the version reserved', async () => {
    const f = fixture({ afterPublishFails: true });
    await expect(f.service.update(office, ALERT_ID, redNotice(), 'k-2')).resolves.toMatchObject({ statusCode: 201, body: { version: 2 } });
    expect(f.publisher.publish).toHaveBeenCalledTimes(1);
    expect(f.alerts.releaseVersion).not.toHaveBeenCalled();
    expect(f.idempotency.release).not.toHaveBeenCalled();
  });

  it('a 503 (nothing published) releases both, so a retry publishes exactly once', async () => {
    const f = fixture({ publish: () => Promise.reject(new PublishUnavailableError('broker down')) });
    await expect(f.service.update(office, ALERT_ID, redNotice(), 'k-3')).rejects.toMatchObject({ problem: { problem: { status: 503 } } });
    expect(f.alerts.releaseVersion).toHaveBeenCalledWith(ALERT_ID, 2);
    expect(f.idempotency.release).toHaveBeenCalledWith('FR-NCB', 'k-3');
  });

  it('a refusal before Kafka (validation) releases the key', async () => {
    const f = fixture();
    await expect(f.service.create(office, { ...redNotice(), expires: '2000-01-01T00:00:00Z' }, 'k-4')).rejects.toMatchObject({
      problem: { status: 400 },
    });
    expect(f.publisher.publish).not.toHaveBeenCalled();
    expect(f.idempotency.release).toHaveBeenCalledWith('FR-NCB', 'k-4');
  });

  it('create: a retry replays the first answer even if the body would no longer validate (expires passed)', async () => {
    const first = { alertId: ALERT_ID, version: 1, msgType: 'Alert', sent: '2026-01-01T00:00:00.000Z', partition: 0, offset: '7' };
    const f = fixture({ reservation: { kind: 'replay', response: { statusCode: 201, body: first } } });
    const r = await f.service.create(office, { ...redNotice(), expires: '2000-01-01T00:00:00Z' }, 'k-5');
    expect(r).toEqual({ statusCode: 201, body: first, replayed: true });
    expect(f.publisher.publish).not.toHaveBeenCalled();
  });
});
