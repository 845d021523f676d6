import { describe, expect, it } from '@jest/globals';
import { CodecError } from '@backbone/codec';
import { classifyFailure, PermanentRecordError } from './failure.classifier.js';

/** What pg's DatabaseError carries: a SQLSTATE in `code`. */
function pgError(code: string, message = 'database said no'): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyFailure', () => {
  it.each([
    ['22021', 'invalid byte sequence (NUL)'],
    ['22P05', 'untranslatable character'],
    ['22008', 'datetime field overflow'],
    ['22001', 'value too long'],
    ['23514', 'check violation'],
    ['23502', 'not-null violation'],
  ])('SQLSTATE %s (%s) is permanent and parks as UNSTORABLE', (code) => {
    expect(classifyFailure(pgError(code))).toMatchObject({ kind: 'permanent', parkReason: 'UNSTORABLE', label: `sqlstate_${code}` });
  });

  it.each([
    ['08006', 'connection failure'],
    ['57P01', 'admin shutdown'],
    ['55000', 'database does not allow connections'],
    ['40001', 'serialization failure'],
    ['53300', 'too many connections'],
    ['42501', 'insufficient privilege (our setup, not the record)'],
  ])('SQLSTATE %s (%s) is transient', (code) => {
    expect(classifyFailure(pgError(code)).kind).toBe('transient');
  });

  it('looks through TypeORM wrappers to the driver error', () => {
    const wrapped = Object.assign(new Error('QueryFailedError'), { driverError: pgError('22P05') });
    expect(classifyFailure(wrapped)).toMatchObject({ kind: 'permanent', label: 'sqlstate_22P05' });
  });

  it('classifies by SQLSTATE, not by message text', () => {
    expect(classifyFailure(pgError('08006', 'invalid byte sequence for encoding "UTF8": 0x00')).kind).toBe('transient');
    expect(classifyFailure(new Error('invalid byte sequence for encoding "UTF8": 0x00')).kind).toBe('transient');
  });

  it('treats codec errors and explicit permanent errors as permanent with their reason', () => {
    expect(classifyFailure(new CodecError('BAD_MARKER', 'no marker'))).toMatchObject({ kind: 'permanent', parkReason: 'UNDECODABLE' });
    expect(classifyFailure(new CodecError('UNKNOWN_FINGERPRINT', 'who?'))).toMatchObject({
      kind: 'permanent',
      parkReason: 'UNKNOWN_SCHEMA',
    });
    expect(classifyFailure(new PermanentRecordError('FORGED', 'bad signature'))).toMatchObject({
      kind: 'permanent',
      parkReason: 'FORGED',
      label: 'record_FORGED',
    });
  });

  it('treats network and unknown errors as transient (retrying loses nothing)', () => {
    expect(classifyFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject({
      kind: 'transient',
      label: 'connection',
    });
    expect(classifyFailure(Object.assign(new Error('x'), { name: 'KafkaJSConnectionError' }))).toMatchObject({
      kind: 'transient',
      label: 'kafka',
    });
    expect(classifyFailure(new Error('Connection terminated unexpectedly'))).toMatchObject({ kind: 'transient', label: 'unknown' });
  });

  it('keeps control characters (a NUL from the record) out of the detail', () => {
    expect(classifyFailure(pgError('22021', 'bad \u0000 byte\nhere')).detail).toBe('SQLSTATE 22021: bad byte here');
  });
});
