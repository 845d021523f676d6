import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Roles } from '@backbone/auth';
import { problem } from '@backbone/bootstrap';
import { inSpan, SPAN_ATTR, SPANS } from '@backbone/telemetry';
import { CurrentOffice, type Office } from '../auth/office-credential.verifier.js';
import { AlertsService, ProblemWithHeaders, type AlertStatus, type ApiResult, type PublishedVersion } from './alerts.service.js';

/** The liaison-office API; openapi/openapi.document.ts describes exactly these routes. */
@Controller('alerts')
@Roles('office')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Post()
  @HttpCode(201)
  create(
    @CurrentOffice() office: Office,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PublishedVersion> {
    return answer(reply, () => this.alerts.create(office, body, key));
  }

  @Post(':id/updates')
  @HttpCode(201)
  update(
    @CurrentOffice() office: Office,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PublishedVersion> {
    return answer(reply, () => this.alerts.update(office, id, body, key));
  }

  @Post(':id/cancel')
  @HttpCode(201)
  cancel(
    @CurrentOffice() office: Office,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PublishedVersion> {
    return answer(reply, () => this.alerts.cancel(office, id, body, key));
  }

  @Get(':id')
  status(@CurrentOffice() office: Office, @Param('id') id: string): Promise<AlertStatus> {
    return this.alerts.status(office, id);
  }

  @Get()
  list(
    @CurrentOffice() office: Office,
    @Query('limit') limit?: string,
    @Query('offset') offset?: string,
  ): ReturnType<AlertsService['list']> {
    const errors = [];
    const l = limit === undefined ? 20 : Number(limit);
    const o = offset === undefined ? 0 : Number(offset);
    if (!Number.isInteger(l) || l < 1 || l > 100)
      errors.push({ field: 'query:limit', code: 'out-of-range', message: 'must be an integer 1-100' });
    // Safe integers only: beyond them PostgreSQL's bigint OFFSET overflows (a 500 the HTTP fuzz found).
    if (!Number.isSafeInteger(o) || o < 0)
      errors.push({ field: 'query:offset', code: 'out-of-range', message: `must be an integer 0-${Number.MAX_SAFE_INTEGER}` });
    if (errors.length > 0) throw problem(400, 'validation-failed', 'Invalid query', { errors, reason: 'validation-failed' });
    return this.alerts.list(office, l, o);
  }
}

/** Every publishing route's answer, in one span (the first stage of an alert's path: HTTP accepted). */
function answer<T>(reply: FastifyReply, work: () => Promise<ApiResult<T>>): Promise<T> {
  return inSpan(SPANS.publisherHttp, {}, async (span) => {
    const body = await answerWithin(reply, work);
    const alertId = (body as { alertId?: unknown } | null)?.alertId;
    if (typeof alertId === 'string') span.setAttribute(SPAN_ATTR.alertId, alertId);
    return body;
  });
}

async function answerWithin<T>(reply: FastifyReply, work: () => Promise<ApiResult<T>>): Promise<T> {
  try {
    const result = await work();
    void reply.status(result.statusCode);
    if (result.replayed) void reply.header('Idempotent-Replayed', 'true');
    return result.body;
  } catch (err) {
    if (err instanceof ProblemWithHeaders) {
      for (const [name, value] of Object.entries(err.headers)) void reply.header(name, value);
      throw err.problem;
    }
    throw err;
  }
}
