// Hand-written OpenAPI 3.1 description of the liaison-office API. The request schema is derived
// from the validator's own field specs, so the two cannot drift; the routes mirror alerts.controller.ts
// (openapi.spec.ts checks that every controller route is described).
import { MSG_TYPES, UNSTORABLE_REASONS } from '@backbone/codec';
import { VALIDATION_CODES, alertContentJsonSchema } from '../validation/alert-input.validator.js';

const problemRef = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string): Record<string, unknown> => ({
  description,
  content: { 'application/problem+json': { schema: problemRef } },
});
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const idemParam = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Retries with the same key return the first answer instead of publishing again (scope: the office). After a crash, a retry gets the committed alert ' +
    '(201, Idempotent-Replayed) or publishes it once; keys are remembered for IDEMPOTENCY_RETENTION_HOURS (default 72).',
  schema: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]{1,200}$' },
};
const publishResponses = {
  '201': {
    description: 'Published: the broker acknowledged (acks=all) the version',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/PublishedVersion' } } },
  },
  '400': problemResponse(
    'Validation failed (`validation-failed`), or a value no store can hold (`unstorable-value`: NUL, lone surrogate, time out of range): `errors` names each field (JSON pointer) and code',
  ),
  '401': problemResponse('Missing, malformed, unknown or revoked credential'),
  '403': problemResponse("Another office's alert"),
  '409': problemResponse(
    'Same Idempotency-Key still in progress, concurrent change, or alert already cancelled (Retry-After when retrying helps)',
  ),
  '413': problemResponse('Body larger than BODY_LIMIT_BYTES'),
  '415': problemResponse('Body is not application/json'),
  '422': problemResponse('Idempotency-Key reused for a different request'),
  '503': problemResponse(
    'Kafka unreachable (reason `kafka-unavailable`) or the database unavailable or out of connections (`database-unavailable`): retry after Retry-After seconds with the same Idempotency-Key, which publishes at most once',
  ),
};
/** POST /alerts has no existing alert to own, change concurrently or find cancelled: no 403, and 409 only for the key. */
const createResponses: Record<string, unknown> = Object.fromEntries(
  Object.entries(publishResponses).filter(([status]) => status !== '403'),
);
createResponses['409'] = problemResponse(
  'Same Idempotency-Key still in progress, or its outcome after a crash not yet known (retry after Retry-After seconds with the same key)',
);

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Backbone notice-publisher',
      version: '1.0.0',
      description:
        'Liaison offices publish, update and cancel alerts. The sender is the authenticated office; alertId, version, sent, sender, senderRegion, msgType and references are assigned by the server.',
    },
    security: [{ officeToken: [] }],
    paths: {
      '/alerts': {
        post: {
          operationId: 'createAlert',
          summary: 'Publish a new alert (CAP msgType Alert, version 1)',
          parameters: [idemParam],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/AlertContent' } } } },
          responses: createResponses,
        },
        get: {
          operationId: 'listAlerts',
          summary: "The office's own alerts, newest first",
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          ],
          responses: {
            '200': { description: 'A page', content: { 'application/json': { schema: { $ref: '#/components/schemas/AlertPage' } } } },
            '400': problemResponse('Bad limit or offset'),
            '401': problemResponse('Not authenticated'),
          },
        },
      },
      '/alerts/{id}': {
        get: {
          operationId: 'alertStatus',
          summary: "Status of one of the office's alerts: state, versions, partition and offset of each",
          parameters: [idParam],
          responses: {
            '200': { description: 'The alert', content: { 'application/json': { schema: { $ref: '#/components/schemas/AlertStatus' } } } },
            '401': problemResponse('Not authenticated'),
            '403': problemResponse("Another office's alert"),
            '404': problemResponse('Unknown alert'),
          },
        },
      },
      '/alerts/{id}/updates': {
        post: {
          operationId: 'updateAlert',
          summary: 'Publish a new version (msgType Update) replacing the content; references the latest version',
          parameters: [idParam, idemParam],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/AlertContent' } } } },
          responses: { ...publishResponses, '404': problemResponse('Unknown alert') },
        },
      },
      '/alerts/{id}/cancel': {
        post: {
          operationId: 'cancelAlert',
          summary: 'Publish a Cancel version of the alert (the latest content, optionally a new description)',
          parameters: [idParam, idemParam],
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  properties: { note: { type: ['string', 'null'], maxLength: 20000 } },
                },
              },
            },
          },
          responses: { ...publishResponses, '404': problemResponse('Unknown alert') },
        },
      },
      '/auth/introspect': {
        post: {
          operationId: 'introspectOfficeToken',
          security: [{ serviceToken: [] }],
          summary:
            'For backbone services only (policy gate, audit logger): is this office token valid now, and whose is it (ADR 0007). ' +
            'Callers cache answers briefly (OFFICE_INTROSPECTION_CACHE_MS), which bounds how long a revoked token still works there.',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { type: 'object', required: ['token'], properties: { token: { type: 'string', minLength: 1, maxLength: 200 } } },
              },
            },
          },
          responses: {
            '200': {
              description: 'The answer; an invalid token is `active: false` with the reason, never an error',
              content: {
                'application/json': {
                  schema: {
                    oneOf: [
                      {
                        type: 'object',
                        required: ['active', 'agency', 'tokenId'],
                        properties: { active: { const: true }, agency: { type: 'string' }, tokenId: { type: 'string' } },
                      },
                      {
                        type: 'object',
                        required: ['active', 'reason'],
                        properties: {
                          active: { const: false },
                          reason: {
                            type: 'string',
                            enum: ['malformed-credential', 'unknown-credential', 'revoked-credential', 'agency-not-in-registry'],
                          },
                        },
                      },
                    ],
                  },
                },
              },
            },
            '400': problemResponse('No token in the body'),
            '401': problemResponse('Not a service credential listed in INTROSPECTION_CLIENTS'),
            '403': problemResponse('An office (or other) credential: only services may introspect'),
          },
        },
      },
      '/openapi.json': {
        get: { operationId: 'openapi', security: [], summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
      },
    },
    components: {
      securitySchemes: {
        officeToken: { type: 'http', scheme: 'bearer', description: 'Office credential issued by `backbone credentials issue AGENCY`' },
        serviceToken: {
          type: 'http',
          scheme: 'bearer',
          description: "A backbone service's own credential; its SHA-256 is listed in the publisher's INTROSPECTION_CLIENTS",
        },
      },
      schemas: {
        AlertContent: alertContentJsonSchema(),
        PublishedVersion: {
          type: 'object',
          required: ['alertId', 'version', 'msgType', 'sent', 'partition', 'offset'],
          properties: {
            alertId: { type: 'string', format: 'uuid' },
            version: { type: 'integer', minimum: 1 },
            msgType: { type: 'string', enum: [...MSG_TYPES] },
            sent: { type: 'string', format: 'date-time' },
            partition: { type: 'integer', description: 'alerts.submitted partition (sender region range)' },
            offset: { type: 'string', description: 'Kafka offset (int64 as a decimal string)' },
          },
        },
        AlertSummary: {
          type: 'object',
          properties: {
            alertId: { type: 'string', format: 'uuid' },
            sender: { type: 'string' },
            senderRegion: { type: 'string' },
            state: { type: 'string', enum: ['active', 'cancelled'] },
            latestVersion: { type: 'integer' },
            noticeType: { type: 'string' },
            headline: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
        AlertStatus: {
          allOf: [
            { $ref: '#/components/schemas/AlertSummary' },
            {
              type: 'object',
              properties: {
                versions: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      version: { type: 'integer' },
                      msgType: { type: 'string', enum: [...MSG_TYPES] },
                      state: { type: 'string', enum: ['pending', 'published'] },
                      partition: { type: ['integer', 'null'] },
                      offset: { type: ['string', 'null'] },
                      sent: { type: 'string', format: 'date-time' },
                    },
                  },
                },
              },
            },
          ],
        },
        AlertPage: {
          type: 'object',
          properties: {
            items: { type: 'array', items: { $ref: '#/components/schemas/AlertSummary' } },
            total: { type: 'integer' },
            limit: { type: 'integer' },
            offset: { type: 'integer' },
          },
        },
        Problem: {
          type: 'object',
          description: 'RFC 9457 problem details',
          required: ['type', 'title', 'status'],
          properties: {
            type: { type: 'string', format: 'uri' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
            reason: { type: 'string', description: 'Named reason, also recorded in the REJECTED audit event' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                required: ['field', 'code', 'message'],
                properties: {
                  field: { type: 'string', description: 'JSON pointer into the body (or header:/query: for parameters)' },
                  code: {
                    type: 'string',
                    enum: [...Object.values(VALIDATION_CODES), 'immutable', ...Object.values(UNSTORABLE_REASONS)],
                    description:
                      'Stable machine code of the field error: clients translate and switch on it (the console does, in four languages); ' +
                      '`message` is the English text for API users and may change. docs/liaison-office.md lists what each code means.',
                  },
                  message: { type: 'string', description: 'English text for people; not stable' },
                  params: {
                    type: 'object',
                    description:
                      'The limits the message names, for clients that word it themselves: `min`/`max` (invalid-length of text, out-of-range), `maxItems` (invalid-length of a list)',
                    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}
