// The console in a real browser (Debian's Chromium driven by playwright-core) against the real
// stack: a liaison office sees a field error from the API, previews the recipients and
// publishes; a desk watching its live feed sees the alert arrive and acknowledges it; compliance
// staff see the trail with the acknowledgement and the cooperation metrics. Every page is
// checked with axe-core, the Arabic layout is right to left, and every test leaves a screenshot
// in test-results/console/.
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createLogger, startService, type RunningService } from '@backbone/bootstrap';
import { KafkaConfig, SUBMITTED_PARTITIONS, topicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { loadRegistry } from '@backbone/policy';
import { alertInput, createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { startTestSubscriber, type RunningAgencySubscriber } from '../apps/agency-subscriber/src/subscriber.test-kit.js';
import type { AuditLedgerRuntime } from '../apps/audit-logger/src/audit-ledger.runtime.js';
import { AUDIT_RUNTIME, AuditLoggerModule } from '../apps/audit-logger/src/audit-logger.module.js';
import { issueComplianceUser, provisionLedger } from '@backbone/ledger';
import { startConsoleServer, type ConsoleTargets, type RunningConsole } from '../apps/console/src/index.js';
import { PublisherConfig } from '../apps/notice-publisher/src/config/publisher.config.js';
import { CredentialStore, openPublisherDatabase } from '@backbone/office-store';
import { issueToken } from '@backbone/auth';
import { OfficeIntrospectionClient } from '@backbone/office-auth';
import { NoticePublisherModule } from '../apps/notice-publisher/src/notice-publisher.module.js';
import { startTestGate, type TestGate } from '../apps/policy-gate/src/testing/gate-test.harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const POLICIES = join(ROOT, 'policies');
const WEB = join(ROOT, 'dist', 'console-web');
const SHOTS = join(ROOT, 'test-results', 'console');
/** DE-NCB receives an EU red notice under the shipped policy; US-NCB's desk is the second subscriber. */
const AGENCIES = ['DE-NCB', 'US-NCB'] as const;
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function chromiumPath(): string {
  const found = spawnSync('which', ['chromium'], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error('chromium not found: npm test installs it (apt-get install -y chromium) before the e2e tier');
  return found.stdout.trim();
}

describe('console in Chromium', () => {
  const prefix = `${uniqueName('console')}.`;
  const topics = topicNames(prefix);
  const registryCodes = loadRegistry(join(POLICIES, 'registry.yaml')).agencies.map((a) => a.code);
  const allTopics = [topics.submitted, topics.audit, topics.deadLetter, ...registryCodes.map((a) => topics.feedFor(a))];
  const logger = createLogger('console-e2e', 'warn');
  const admin = testKafka('admin', uniqueName('console-admin')).admin();
  const subscribers = new Map<string, RunningAgencySubscriber>();
  const profile = mkdtempSync(join(tmpdir(), 'backbone-chromium-'));
  let db: TestDatabase;
  let publisher: RunningService;
  let gate: TestGate;
  let gateUrl: string;
  let audit: RunningService;
  let consoleServer: RunningConsole;
  let consoleTargets: ConsoleTargets;
  let publisherUrl: string;
  let browser: BrowserContext;
  let officeToken: string;
  let deskToken: string;
  let complianceToken: string;
  const requestedUrls: string[] = [];
  const cspViolations: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // The web app is built by `npm run build`; a bare jest run builds it here.
    if (!existsSync(join(WEB, 'index.html'))) {
      const built = spawnSync(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
          'build',
          '--config',
          join(ROOT, 'apps', 'console', 'web', 'vite.config.mjs'),
        ],
        { cwd: ROOT, encoding: 'utf8' },
      );
      if (built.status !== 0) throw new Error(`vite build failed: ${built.stderr}`);
    }
    await admin.connect();
    await createTopics(admin, [topics.submitted], SUBMITTED_PARTITIONS);
    await createTopics(
      admin,
      allTopics.filter((t) => t !== topics.submitted),
      3,
    );
    db = await createTestDatabase({ label: 'console_e2e' });
    const connection = testKafkaConnection('admin');

    // Every service starts through the one start-up function, as its main.ts does; the gate and
    // the audit logger verify office tokens through the publisher's introspection route (ADR 0007).
    const gateService = issueToken();
    const auditService = issueToken();
    publisher = await startService({
      name: 'notice-publisher',
      module: NoticePublisherModule.forRoot({
        kafka: KafkaConfig.of(connection, prefix),
        config: PublisherConfig.of({
          PORT: 0,
          DATABASE_URL: db.url,
          POLICIES_DIR: POLICIES,
          PUBLISH_FLUSH_INTERVAL_MS: 2,
          INTROSPECTION_CLIENTS: `policy-gate=${gateService.hash},audit-logger=${auditService.hash}`,
        }),
      }),
      logger,
      port: 0,
      shutdownHooks: false,
    });
    const publisherDb = await openPublisherDatabase(db.url, 2);
    officeToken = (await new CredentialStore(publisherDb).issue('FR-NCB')).token;
    await publisherDb.destroy();

    gate = await startTestGate({
      kafka: connection,
      databaseUrl: db.url,
      prefix,
      policiesDir: POLICIES,
      instanceId: uniqueName('console'),
      groupId: uniqueName('console-gate'),
      logger,
      officeIntrospection: new OfficeIntrospectionClient({ url: publisher.url, serviceToken: gateService.token, cacheMs: 1000 }),
    });
    gateUrl = gate.service.url;
    audit = await startService({
      name: 'audit-logger',
      module: AuditLoggerModule.forRoot({
        kafka: connection,
        databaseUrl: await provisionLedger(db.url),
        prefix,
        groupId: uniqueName('console-audit'),
        policiesDir: POLICIES,
        signingKeyFile: join(ROOT, '.backbone', 'test-results', `${uniqueName('console-key')}.pem`),
        officeIntrospection: new OfficeIntrospectionClient({ url: publisher.url, serviceToken: auditService.token, cacheMs: 1000 }),
      }),
      logger,
      port: 0,
      shutdownHooks: false,
    });
    complianceToken = (await issueComplianceUser(audit.app.get<AuditLedgerRuntime>(AUDIT_RUNTIME).pool, 'console-compliance')).token;
    for (const agency of AGENCIES) {
      subscribers.set(
        agency,
        await startTestSubscriber({
          agency,
          kafka: connection,
          databaseUrl: db.url,
          prefix,
          groupId: uniqueName(`console-${agency}`),
          port: 0,
          logger,
        }),
      );
    }
    deskToken = (await subscribers.get('DE-NCB')!.desks.create('watch', {})).token;

    publisherUrl = publisher.url;
    consoleTargets = {
      publisher: publisherUrl,
      gate: gateUrl,
      audit: audit.url,
      subscribers: new Map([...subscribers].map(([a, s]) => [a, s.url])),
    };
    consoleServer = await startConsoleServer({ targets: consoleTargets, webDir: WEB, logger, port: 0 });
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 900 },
    });
    browser.on('request', (r) => requestedUrls.push(r.url()));
    browser.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
    await consoleServer?.close().catch(() => undefined);
    for (const sub of subscribers.values()) await sub.close().catch(() => undefined);
    await audit?.close().catch(() => undefined);
    await gate?.close().catch(() => undefined);
    await publisher?.close().catch(() => undefined);
    await deleteTopics(admin, allTopics).catch(() => undefined);
    await admin.disconnect();
    await db?.drop().catch(() => undefined);
  }, 120_000);

  const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

  /** axe-core on the page as it is now: no serious or critical violation. */
  async function expectAccessible(page: Page, label: string): Promise<void> {
    // Evaluated through the DevTools protocol, which the page's CSP does not govern.
    if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axeSource);
    const violations = (await page.evaluate(`window.axe.run(document, { resultTypes: ['violations'] }).then((r) =>
      r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })))`)) as unknown[];
    expect({ page: label, violations }).toEqual({ page: label, violations: [] });
  }

  async function signIn(role: 'office' | 'desk' | 'compliance', token: string, agency?: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(consoleServer.url);
    await page.getByTestId(`role-${role}`).check();
    if (agency) await page.getByTestId('agency').selectOption(agency);
    await page.getByTestId('token').fill(token);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('signed-in-as').waitFor();
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  /** The text of the error Mantine renders for an input (linked through aria-describedby). */
  async function fieldError(page: Page, testId: string): Promise<string> {
    const input = page.getByTestId(testId);
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter((id) => id.endsWith('-error'));
    expect(ids.length).toBe(1);
    return page.locator(`[id="${ids[0]}"]`).innerText();
  }

  let deskPage: Page;
  let alertId = '';

  it('serves the console with a CSP and refuses recipient previews to anyone but a liaison office', async () => {
    const res = await fetch(consoleServer.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const draft = {
      noticeType: 'RED',
      tlp: 'AMBER',
      handlingCode: 'H1',
      addressing: { mode: 'ALL' },
      area: { description: 'x', countries: ['FR'] },
    };
    const preview = (token?: string) =>
      fetch(`${gateUrl}/preview`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(draft),
      });
    for (const [who, token] of [
      ['anonymous', undefined],
      ['desk', deskToken],
      ['compliance', complianceToken],
      ['forged office', `${officeToken.slice(0, -4)}AAAA`],
    ] as const) {
      const r = await preview(token);
      expect({ who, status: r.status }).toEqual({ who, status: 401 });
      expect(((await r.json()) as { reason: string }).reason).toMatch(/credential/);
    }
    const reviewerToken = (await gate.repository.issueReviewer('console.reviewer')).token;
    const asReviewer = await preview(reviewerToken);
    expect(asReviewer.status).toBe(401);
    expect((await preview(officeToken)).status).toBe(200);
    // And the reverse: an office token opens no reviewer route.
    expect((await fetch(`${gateUrl}/holds`, { headers: { authorization: `Bearer ${officeToken}` } })).status).toBe(401);
  });

  it('desk: signs in and watches the live feed', async () => {
    deskPage = await signIn('desk', deskToken, 'DE-NCB');
    await pollUntil(async () => (await deskPage.getByTestId('feed-status').textContent()) === 'Live', {
      description: 'the desk feed is live',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    await expectAccessible(deskPage, 'desk (empty)');
    await shot(deskPage, 'desk-empty');
  }, 60_000);

  it('office: shows the API’s validation error at its field, in the user’s language (by its code)', async () => {
    const page = await signIn('office', officeToken);
    await page.getByTestId('field-headline').fill('');
    await page.getByTestId('field-description').fill('Sought for armed robbery in Lyon.');
    await page.getByTestId('publish').click();
    await page.getByTestId('compose-message').waitFor();
    // The API's own code and params (invalid-length, min 1), worded by the console's catalogue.
    expect(await fieldError(page, 'field-headline')).toBe('Must have at least 1 non-blank character(s).');
    await expectAccessible(page, 'office compose with errors');
    await shot(page, 'office-validation-error');

    await page.getByTestId('language').selectOption('fr');
    await pollUntil(async () => (await page.evaluate('document.documentElement.lang')) === 'fr', {
      description: 'the page turns French',
      timeoutMs: 5000,
      intervalMs: 50,
    });
    await page.getByTestId('publish').click();
    await pollUntil(async () => (await fieldError(page, 'field-headline')) === 'Doit comporter au moins 1 caractère(s) non blanc(s).', {
      description: 'the headline error in French, at its field',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    await expectAccessible(page, 'office compose with errors (fr)');
    await shot(page, 'office-validation-error-fr');
    await page.getByTestId('language').selectOption('en');
    await page.close();
  }, 60_000);

  it('office: previews the recipients under today’s policy, publishes, and sees the alert listed', async () => {
    const page = await signIn('office', officeToken);
    await page.getByTestId('field-headline').fill('Wanted for armed robbery');
    await page.getByTestId('field-description').fill('Sought for prosecution for armed robbery committed in Lyon.');
    await page.getByTestId('field-areaDescription').fill('Schengen area');
    await page.getByTestId('field-areaCountries').fill('FR, DE');
    await page.getByTestId('preview').click();
    await page.getByTestId('preview-result').waitFor();
    await page.getByTestId('preview-recipient-DE-NCB').waitFor();
    expect(await page.getByTestId('preview-denied').innerText()).toMatch(/[A-Z]{2}-NCB — /);
    await expectAccessible(page, 'office preview');
    await shot(page, 'office-preview');

    await page.getByTestId('publish').click();
    await page.getByTestId('my-alerts').waitFor();
    const row = page.locator('[data-testid^="my-alert-"]').first();
    await row.waitFor();
    alertId = ((await row.getAttribute('data-testid')) ?? '').replace('my-alert-', '');
    expect(alertId).toMatch(/^[0-9a-f-]{36}$/);
    await expectAccessible(page, 'office alerts');
    await shot(page, 'office-alerts');
    await page.close();
  }, 60_000);

  it('desk: sees the alert arrive live, reads its obligations and version history, and acknowledges', async () => {
    await deskPage.getByTestId(`inbox-${alertId}`).waitFor({ timeout: 60_000 });
    expect(await deskPage.getByTestId('feed-announce').textContent()).toContain('Wanted for armed robbery');
    await deskPage.getByTestId(`open-${alertId}`).click();
    await deskPage.getByTestId('alert-view').waitFor();
    // H1 is always spelled out for the desk.
    expect(await deskPage.getByTestId('obligations').innerText()).toMatch(/H1/);
    await expectAccessible(deskPage, 'desk alert view');
    await deskPage.getByTestId('acknowledge').click();
    await deskPage.getByTestId('acknowledged').waitFor();
    await shot(deskPage, 'desk-alert');
  }, 90_000);

  it('office: sees per recipient that the alert was delivered and acknowledged (from the audit ledger)', async () => {
    const page = await signIn('office', officeToken);
    await page.getByTestId('tab-alerts').click();
    await page.getByTestId(`show-delivery-${alertId}`).click();
    const row = page.getByTestId(`recipient-${alertId}-DE-NCB`);
    // The ledger learns of the acknowledgement asynchronously: reload the list until it shows.
    await pollUntil(
      async () => {
        // textContent: the state badge is upper-cased by CSS, which innerText would apply.
        if ((await row.isVisible()) && ((await row.textContent()) ?? '').includes('Acknowledged')) return true;
        await page.getByTestId('tab-compose').click();
        await page.getByTestId('tab-alerts').click();
        await page.getByTestId(`show-delivery-${alertId}`).click();
        return false;
      },
      { description: 'the office sees DE-NCB acknowledge', timeoutMs: 60_000, intervalMs: 500 },
    );
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[5]).not.toBe('—');
    expect(cells[6]).not.toBe('—');
    expect(await page.getByTestId(`delivery-${alertId}`).innerText()).toMatch(/[1-9]\d*\/\d+ delivered · 1 acknowledged/);
    // A denied agency is listed with the rule that denied it.
    expect(await page.getByTestId(`delivery-detail-${alertId}`).textContent()).toContain('Denied');
    await expectAccessible(page, 'office delivery status');
    await shot(page, 'office-alerts');
    await page.close();
  }, 90_000);

  const feedStatus = async (page: Page) => (await page.getByTestId('feed-status').textContent()) ?? '';
  const content = (headline: string) => alertInput({ headline });

  it('desk: resumes the live feed after a dropped connection without missing what arrived meanwhile', async () => {
    const port = Number(new URL(consoleServer.url).port);
    // Dropping the console server cuts the browser's stream mid-flight.
    await consoleServer.close();
    await pollUntil(async () => (await feedStatus(deskPage)) === 'Reconnecting…', {
      description: 'the desk sees the feed drop',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    const res = await fetch(`${publisherUrl}/alerts/${alertId}/updates`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${officeToken}`,
        'content-type': 'application/json',
        'idempotency-key': uniqueName('console-update'),
      },
      body: JSON.stringify(content('Wanted for armed robbery (while you were away)')),
    });
    expect(res.status).toBe(201);
    // Stored while the desk was disconnected: only a resumed feed can bring it.
    await pollUntil(async () => (await subscribers.get('DE-NCB')!.inbox.versionCount()) >= 2, {
      description: 'DE-NCB stores version 2',
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    consoleServer = await startConsoleServer({ targets: consoleTargets, webDir: WEB, logger, port });
    await pollUntil(async () => (await feedStatus(deskPage)) === 'Live', {
      description: 'the desk feed reconnects',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    await pollUntil(async () => ((await deskPage.getByTestId('feed-announce').textContent()) ?? '').includes('(while you were away)'), {
      description: 'the update stored during the drop arrives through the resumed feed',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    await pollUntil(async () => ((await deskPage.getByTestId(`inbox-${alertId}`).textContent()) ?? '').includes('Updated'), {
      description: 'the desk lists it as updated',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
  }, 120_000);

  it('compliance: sees the trail with the acknowledgement, verifies the ledger and charts the metrics', async () => {
    const page = await signIn('compliance', complianceToken);
    await pollUntil(
      async () => {
        await page.getByTestId('trail-id').fill(alertId);
        await page.getByTestId('trail-submit').click();
        const row = page.getByTestId('trail-DE-NCB-1');
        if (!(await row.isVisible())) return false;
        const cells = await row.locator('td').allInnerTexts();
        return cells[7] !== '—';
      },
      { description: 'the trail shows DE-NCB acknowledged', timeoutMs: 60_000, intervalMs: 500 },
    );
    await expectAccessible(page, 'compliance trail');
    await shot(page, 'compliance-trail');

    await page.getByTestId('tab-verify').click();
    await page.getByTestId('verify').click();
    await page.getByTestId('verify-result').waitFor();
    expect(await page.getByTestId('verify-result').innerText()).toContain('intact');
    await expectAccessible(page, 'compliance verify');

    await page.getByTestId('tab-metrics').click();
    await page.getByTestId('chart-ack').waitFor();
    expect(await page.getByTestId('chart-ack').innerText()).toContain('DE-NCB');
    expect(await page.getByTestId('chart-types').innerText()).toContain('Red notice');
    await expectAccessible(page, 'compliance metrics');
    await shot(page, 'compliance-metrics');

    await page.getByTestId('tab-export').click();
    await page.getByTestId('export-agency').fill('DE-NCB');
    await page.getByTestId('export').click();
    await page.getByTestId('export-download').waitFor();
    expect(await page.getByTestId('export-progress').innerText()).toMatch(/\d/);
    await expectAccessible(page, 'compliance export');
    await page.close();
  }, 120_000);

  it('office: updates and then cancels the alert from its list; the desk sees both as such', async () => {
    const page = await signIn('office', officeToken);
    await page.getByTestId('tab-alerts').click();
    await page
      .getByTestId(`my-alert-${alertId}`)
      .getByRole('button', { name: /^Update/ })
      .click();
    await page.getByTestId('field-headline').fill('Wanted for armed robbery (updated from the console)');
    await page.getByTestId('field-description').fill('Sought for prosecution for armed robbery committed in Lyon; new photo.');
    await page.getByTestId('field-areaDescription').fill('Schengen area');
    await page.getByTestId('field-areaCountries').fill('FR, DE');
    await page.getByTestId('publish').click();
    await page.getByTestId(`my-alert-${alertId}`).waitFor();
    await pollUntil(
      async () => ((await page.getByTestId(`my-alert-${alertId}`).textContent()) ?? '').includes('(updated from the console)'),
      {
        description: 'the list shows the new version',
        timeoutMs: 10_000,
        intervalMs: 100,
      },
    );
    await pollUntil(
      async () => ((await deskPage.getByTestId(`inbox-${alertId}`).textContent()) ?? '').includes('(updated from the console)'),
      {
        description: 'the desk sees the update live',
        timeoutMs: 60_000,
        intervalMs: 200,
      },
    );
    await page.getByTestId(`cancel-${alertId}`).click();
    await pollUntil(async () => ((await page.getByTestId(`my-alert-${alertId}`).textContent()) ?? '').includes('Cancelled'), {
      description: 'the list shows it cancelled',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    await pollUntil(async () => ((await deskPage.getByTestId(`inbox-${alertId}`).textContent()) ?? '').includes('Cancelled'), {
      description: 'the desk sees the cancellation live',
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    // The alert view open since the acknowledgement reloads by itself on the live cancellation.
    await deskPage.getByTestId('cancelled').waitFor();
    await expectAccessible(deskPage, 'desk cancelled alert');
    await shot(deskPage, 'desk-cancelled');
    await shot(page, 'office-cancelled');
    await page.close();
  }, 150_000);

  it('lays Arabic out right to left, in Arabic, with every page still accessible', async () => {
    const page = await signIn('compliance', complianceToken);
    await page.getByTestId('language').selectOption('ar');
    await pollUntil(async () => (await page.evaluate('document.documentElement.dir')) === 'rtl', {
      description: 'the page turns rtl',
      timeoutMs: 5000,
      intervalMs: 50,
    });
    expect(await page.evaluate('document.documentElement.lang')).toBe('ar');
    expect(await page.locator('h2').first().innerText()).toBe('الامتثال');
    expect(await page.evaluate('getComputedStyle(document.body).direction')).toBe('rtl');
    await page.getByTestId('tab-metrics').click();
    await page.getByTestId('chart-types').waitFor();
    await expectAccessible(page, 'compliance metrics (ar)');
    await shot(page, 'compliance-metrics-ar');
    await page.getByTestId('language').selectOption('en');
    await page.close();
  }, 60_000);

  it('signs out, and never put a token in a URL or broke the CSP', async () => {
    await deskPage.getByTestId('sign-out').click();
    await deskPage.getByTestId('sign-in').waitFor();
    expect(await deskPage.evaluate('sessionStorage.getItem("backbone.session")')).toBeNull();
    await expectAccessible(deskPage, 'sign-in');
    await shot(deskPage, 'sign-in');
    for (const token of [officeToken, deskToken, complianceToken]) expect(requestedUrls.filter((u) => u.includes(token))).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 30_000);
});
