import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@backbone/bootstrap';
import { parseHostFile } from './subscriber.host.js';

const ok = { agency: 'FR-NCB', port: 8100, kafkaUsername: 'subscriber-FR-NCB', kafkaPassword: 'p' };

describe('subscriber host file', () => {
  it('reads one entry per agency, each with its own principal and port', () => {
    const two = [ok, { ...ok, agency: 'DE-NCB', port: 8101, kafkaUsername: 'subscriber-DE-NCB' }];
    expect(parseHostFile(JSON.stringify(two))).toEqual(two);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an empty list', '[]', /non-empty JSON array/],
    ['a bad agency code', JSON.stringify([{ ...ok, agency: 'fr' }]), /not an agency code/],
    ['an agency twice', JSON.stringify([ok, { ...ok, port: 8101 }]), /FR-NCB appears twice/],
    ['a port twice', JSON.stringify([ok, { ...ok, agency: 'DE-NCB' }]), /port 8100 is used twice/],
    ['no principal', JSON.stringify([{ ...ok, kafkaPassword: '' }]), /own principal/],
  ])('refuses %s with a clear error', (_what, text, message) => {
    expect(() => parseHostFile(text)).toThrow(ConfigError);
    expect(() => parseHostFile(text)).toThrow(message);
  });
});
