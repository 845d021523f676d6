import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describeUnstorable, unstorableFields, unstorableString } from '@backbone/codec';
import type { FieldProblem, ProblemDetails } from './problem-details.filter.js';

const PROBLEM_BASE = 'https://backbone.invalid/problems/';

/**
 * What no route of any service may be handed: a query parameter, path parameter or body value no
 * store can hold (NUL, lone surrogates: the shared storable rules of @backbone/codec), and a
 * query parameter given twice (no route takes a list that way; `type=A,B` is the list form).
 * Found by the HTTP fuzz as 500s deep inside PostgreSQL queries; refused here, at every edge.
 */
export function edgeInputProblem(req: Pick<FastifyRequest, 'query' | 'params' | 'body' | 'url'>): ProblemDetails | null {
  const repeated: FieldProblem[] = [];
  const unstorable: FieldProblem[] = [];
  const check = (where: string, values: unknown): void => {
    if (typeof values !== 'object' || values === null) return;
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      const field = `${where}:${key}`;
      if (Array.isArray(value)) {
        repeated.push({ field, code: 'repeated-parameter', message: `${key} is given more than once` });
        continue;
      }
      const reason = unstorableString(key) ?? (typeof value === 'string' ? unstorableString(value) : null);
      if (reason)
        unstorable.push({ field: field.replace(/[\0\ud800-\udfff]/g, '\ufffd'), code: reason, message: describeUnstorable(reason) });
    }
  };
  check('query', req.query);
  check('path', req.params);
  if (repeated.length > 0) {
    return {
      type: `${PROBLEM_BASE}repeated-parameter`,
      title: 'A query parameter is given more than once',
      status: 400,
      instance: req.url,
      reason: 'repeated-parameter',
      errors: repeated,
    };
  }
  for (const f of req.body === undefined || req.body === null ? [] : unstorableFields(req.body)) {
    unstorable.push({ field: f.field, code: f.reason, message: describeUnstorable(f.reason) });
  }
  if (unstorable.length > 0) {
    return {
      type: `${PROBLEM_BASE}unstorable-value`,
      title: 'A value no store can hold',
      status: 400,
      instance: req.url,
      reason: 'unstorable-value',
      errors: unstorable,
    };
  }
  return null;
}

/** Installs the check on every route, after parsing and before the handler (guards included). */
export function refuseUnstorableInput(fastify: FastifyInstance): void {
  fastify.addHook('preHandler', async (req, reply) => {
    const problem = edgeInputProblem(req);
    if (problem) return reply.status(400).header('content-type', 'application/problem+json').send(problem);
    return undefined;
  });
}
