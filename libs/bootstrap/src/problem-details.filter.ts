import { Catch, HttpException, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from './database-unavailable.js';

/** One entry per invalid field, so a client can show every problem at once. */
export interface FieldProblem {
  field: string;
  /** Stable machine code clients translate and switch on; `message` is the English text. */
  code: string;
  message: string;
  /** The limits a message names (e.g. `min`, `max`), so a client can say them in its own language. */
  params?: Record<string, string | number>;
}

/** RFC 9457 problem details; `errors` carries the field-level list. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

const PROBLEM_BASE = 'https://backbone.invalid/problems/';
/** A pool that timed out or a server restarting is usually back within a second or two. */
const DATABASE_RETRY_AFTER_S = 2;

/** An error that already knows its problem type; thrown by services and rendered as problem+json. */
export class ProblemException extends HttpException {
  constructor(readonly problem: ProblemDetails) {
    super(problem, problem.status);
  }
}

export function problem(status: number, type: string, title: string, extra: Partial<ProblemDetails> = {}): ProblemException {
  // Every refusal names a reason clients can switch on; the problem type is the default one.
  return new ProblemException({ reason: type, ...extra, type, title, status });
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    if (isDatabaseUnavailable(exception)) {
      // Retrying helps and loses nothing (writes are idempotent or keyed): say so, with a reason.
      this.logger.warn({ err: exception, url: request.url }, 'database unavailable; answered 503');
      const body: ProblemDetails = {
        type: PROBLEM_BASE + 'database-unavailable',
        title: 'The database is unavailable or busy; retry after Retry-After seconds',
        status: HttpStatus.SERVICE_UNAVAILABLE,
        instance: request.url,
        reason: 'database-unavailable',
      };
      void reply
        .status(body.status)
        .header('content-type', 'application/problem+json')
        .header('retry-after', String(DATABASE_RETRY_AFTER_S))
        .send(body);
      return;
    }
    const body = this.toProblem(exception, request.url);
    if (body.status >= 500 && body.status !== HttpStatus.SERVICE_UNAVAILABLE) {
      this.logger.error({ err: exception, url: request.url }, 'request failed');
    }
    void reply.status(body.status).header('content-type', 'application/problem+json').send(body);
  }

  private toProblem(exception: unknown, instance: string): ProblemDetails {
    if (exception instanceof ProblemException) {
      return { ...exception.problem, type: PROBLEM_BASE + exception.problem.type, instance };
    }
    // The Fastify adapter wraps Fastify's own errors (bad JSON, body too large) in an HttpException.
    const cause = exception instanceof HttpException ? exception.cause : undefined;
    const raised =
      exception instanceof HttpException ? (cause instanceof Error && cause.name === 'FastifyError' ? cause : undefined) : exception;
    const fastifyError = raised as { statusCode?: number; code?: string; message?: string } | undefined;
    if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode < 500) {
      const status = fastifyError.statusCode;
      const type = status === 413 ? 'payload-too-large' : status === 415 ? 'unsupported-media-type' : 'malformed-request';
      return {
        type: PROBLEM_BASE + type,
        title: fastifyError.message ?? 'Bad request',
        status,
        instance,
        code: fastifyError.code,
        reason: type,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      if (typeof response === 'object' && response !== null && !('message' in response && 'statusCode' in response)) {
        // Readiness reports, the roles guard's refusals and similar structured bodies pass through;
        // a `type` given as a slug becomes a problem URI like the others.
        // The HTTP status always wins: a readiness report's own `status` ('not-ready') would otherwise
        // replace it and Fastify would answer 500 (found by the HTTP fuzz); the report's word is kept.
        const own = (response as { status?: unknown }).status;
        const body = {
          type: PROBLEM_BASE + slug(status),
          title: exception.message,
          instance,
          reason: slug(status),
          ...(response as object),
          status,
          ...(typeof own === 'string' ? { readiness: own } : {}),
        } as ProblemDetails;
        if (!body.type.includes('://')) body.type = PROBLEM_BASE + body.type;
        return body;
      }
      // Nest's own refusals (an unknown route or method: 404) name their reason like every other.
      return { type: PROBLEM_BASE + slug(status), title: exception.message, status, instance, reason: slug(status) };
    }
    return { type: PROBLEM_BASE + 'internal', title: 'Internal error', status: 500, instance, reason: 'internal' };
  }
}

/**
 * Fastify's own routing errors (a URL that does not decode, e.g. invalid UTF-8 in a path segment)
 * are answered before any Nest filter runs: this handler, given to the adapter as
 * `frameworkErrors`, answers them as problem+json with a reason like every other refusal.
 */
export function frameworkErrorProblem(error: { statusCode?: number; code?: string; message?: string }, url: string): ProblemDetails {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  return {
    type: PROBLEM_BASE + 'malformed-request',
    title: error.message ?? 'Bad request',
    status,
    instance: url,
    code: error.code,
    reason: 'malformed-request',
  };
}

function slug(status: number): string {
  switch (status) {
    case 400:
      return 'bad-request';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload-too-large';
    case 503:
      return 'unavailable';
    default:
      return `http-${status}`;
  }
}
