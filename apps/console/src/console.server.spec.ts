import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parseSubscribers } from './console.config.js';
import { routeApi, SECURITY_HEADERS, type ConsoleTargets } from './console.server.js';

const targets: ConsoleTargets = {
  publisher: 'http://pub:1',
  gate: 'http://gate:2',
  audit: 'http://audit:3',
  subscribers: new Map([['DE-NCB', 'http://de:4']]),
};

describe('console reverse proxy routes', () => {
  it('forwards only the routes the console uses, to the service that owns them', () => {
    expect(routeApi('/api/publisher/alerts', targets)).toBe('http://pub:1/alerts');
    expect(routeApi('/api/publisher/alerts/abc/cancel', targets)).toBe('http://pub:1/alerts/abc/cancel');
    expect(routeApi('/api/gate/preview', targets)).toBe('http://gate:2/preview');
    expect(routeApi('/api/audit/compliance/alerts/x/trail', targets)).toBe('http://audit:3/compliance/alerts/x/trail');
    expect(routeApi('/api/audit/office/alerts/recipients', targets)).toBe('http://audit:3/office/alerts/recipients');
    expect(routeApi('/api/agencies/DE-NCB/inbox', targets)).toBe('http://de:4/inbox');
    expect(routeApi('/api/agencies/DE-NCB/inbox/x/ack', targets)).toBe('http://de:4/inbox/x/ack');
    expect(routeApi('/api/agencies/DE-NCB/stream', targets)).toBe('http://de:4/stream');
  });

  it('refuses everything else: other service routes, unknown agencies, administration', () => {
    for (const path of [
      '/api/gate/holds',
      '/api/gate/decisions/x',
      '/api/publisher/openapi.json',
      '/api/audit/metrics',
      '/api/agencies/FR-NCB/inbox',
      '/api/agencies/DE-NCB/desks',
      '/api/agencies/de-ncb/inbox',
      '/api/publisher/alertsX',
      '/api/publisher/auth/introspect',
      '/api/audit/office/desks',
    ]) {
      expect({ path, target: routeApi(path, targets) }).toEqual({ path, target: null });
    }
  });

  it('sends a CSP that allows scripts from its own origin only and no framing', () => {
    const csp = SECURITY_HEADERS['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('parses CONSOLE_SUBSCRIBERS and rejects a malformed pair instead of dropping it', () => {
    expect([...parseSubscribers(' DE-NCB=http://127.0.0.1:8101/ , FR-NCB=https://fr.example:443')]).toEqual([
      ['DE-NCB', 'http://127.0.0.1:8101'],
      ['FR-NCB', 'https://fr.example:443'],
    ]);
    expect(parseSubscribers('')).toEqual(new Map());
    expect(() => parseSubscribers('DE-NCB=ftp://x')).toThrow(/DE-NCB=ftp/);
    expect(() => parseSubscribers('DE-NCB')).toThrow(/CODE=/);
  });
});

describe('console message catalogues', () => {
  const dir = fileURLToPath(new URL('../web/src/messages', import.meta.url));
  const load = (lang: string): Record<string, string> =>
    JSON.parse(readFileSync(join(dir, `${lang}.json`), 'utf8')) as Record<string, string>;

  it('has en, fr, es and ar with exactly the same keys, none empty', () => {
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['ar.json', 'en.json', 'es.json', 'fr.json']);
    const reference = Object.keys(load('en')).sort();
    for (const lang of ['fr', 'es', 'ar']) {
      const cat = load(lang);
      expect({ lang, keys: Object.keys(cat).sort() }).toEqual({ lang, keys: reference });
      expect({
        lang,
        empty: Object.entries(cat)
          .filter(([, v]) => v.trim() === '')
          .map(([k]) => k),
      }).toEqual({ lang, empty: [] });
    }
  });

  it('keeps every {placeholder} of a message in each translation', () => {
    const en = load('en');
    const holes = (s: string) => (s.match(/\{[a-z]+\}/gi) ?? []).sort();
    for (const lang of ['fr', 'es', 'ar']) {
      const cat = load(lang);
      const broken = Object.keys(en).filter((k) => JSON.stringify(holes(en[k]!)) !== JSON.stringify(holes(cat[k]!)));
      expect({ lang, broken }).toEqual({ lang, broken: [] });
    }
  });
});
