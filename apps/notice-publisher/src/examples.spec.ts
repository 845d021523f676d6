// Every file of examples/alerts is a valid POST /alerts body against the real registry, and
// completes into an Alert the Avro codec encodes — one example per notice type and a diffusion.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { alertCodec, NOTICE_TYPES } from '@backbone/codec';
import { PublisherConfig } from './config/publisher.config.js';
import { loadAgencyDirectory } from './registry/agency-directory.js';
import { validateAlertContent } from './validation/alert-input.validator.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dir = join(repo, 'examples', 'alerts');
const files = readdirSync(dir).filter((f) => ['.json', '.yaml', '.yml'].includes(extname(f)));
const agencies = loadAgencyDirectory(PublisherConfig.of().settings.POLICIES_DIR);

function read(file: string): unknown {
  const text = readFileSync(join(dir, file), 'utf8');
  return extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
}

describe('examples/alerts', () => {
  it('covers every notice type, the diffusion included', () => {
    const types = files.map((f) => (read(f) as { noticeType: string }).noticeType).sort();
    expect(types).toEqual([...NOTICE_TYPES].sort());
  });

  it.each(files)('%s validates and encodes', (file) => {
    const r = validateAlertContent(read(file), agencies);
    if (!r.ok) throw new Error(`${file}: ${JSON.stringify(r.errors)}`);
    const alert = {
      ...r.content,
      alertId: '6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f',
      version: 1,
      sender: 'FR-NCB',
      senderRegion: 'EUROPE' as const,
      sent: new Date(),
      msgType: 'Alert' as const,
      references: [],
    };
    expect(alertCodec.decode(alertCodec.encode(alert))).toEqual(alert);
  });
});
