import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { edgeInputProblem } from './storable-input.hook.js';

const req = (o: { query?: unknown; params?: unknown; body?: unknown }) => ({
  query: o.query ?? {},
  params: o.params ?? {},
  body: o.body,
  url: '/x',
});

describe('edgeInputProblem', () => {
  it('passes ordinary input', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string()), fc.jsonValue(), (query, body) => {
        const clean = (s: string): string => s.replace(/[\0\ud800-\udfff]/g, '');
        const q = Object.fromEntries(Object.entries(query).map(([k, v]) => [clean(k), clean(v)]));
        const b = JSON.parse(
          JSON.stringify(body, (_k, v: unknown) => (typeof v === 'string' ? clean(v) : v)).replace(/\\u0000/g, ''),
        ) as unknown;
        const cleanBody = JSON.parse(
          JSON.stringify(b, (_k, v: unknown) =>
            v !== null && typeof v === 'object' && !Array.isArray(v)
              ? Object.fromEntries(Object.entries(v).map(([k, x]) => [clean(k), x]))
              : v,
          ),
        ) as unknown;
        expect(edgeInputProblem(req({ query: q, body: cleanBody }))).toBeNull();
      }),
    );
  });

  it('names NUL and lone surrogates in query, path and body, and repeated query parameters', () => {
    expect(edgeInputProblem(req({ query: { q: 'a\0' } }))).toMatchObject({
      status: 400,
      reason: 'unstorable-value',
      errors: [{ field: 'query:q', code: 'nul-character' }],
    });
    expect(edgeInputProblem(req({ params: { id: '\ud800' } }))).toMatchObject({
      reason: 'unstorable-value',
      errors: [{ field: 'path:id', code: 'lone-surrogate' }],
    });
    expect(edgeInputProblem(req({ body: { a: [{ b: 'x\0' }] } }))).toMatchObject({
      reason: 'unstorable-value',
      errors: [{ field: '/a/0/b', code: 'nul-character' }],
    });
    expect(edgeInputProblem(req({ query: { q: ['1', '2'] } }))).toMatchObject({
      reason: 'repeated-parameter',
      errors: [{ field: 'query:q', code: 'repeated-parameter' }],
    });
  });
});
