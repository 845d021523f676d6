import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { principalOf, Roles, type AuthenticatedRequest } from '@backbone/auth';
import { NOTICE_TYPES, describeUnstorable, isUuid, unstorableTimestamp } from '@backbone/codec';
import { problem } from '@backbone/bootstrap';
import type { Desk } from '@backbone/inbox-store';
import type { AuditRelay } from '../audit/audit.relay.js';
import { AUDIT_RELAY, INBOX_STORE } from '../subscriber.tokens.js';
import { BadCursorError, type InboxStore } from './inbox.store.js';
import type { InboxDetail, InboxPage } from './inbox.types.js';

const DEFAULT_PAGE = 50;

/** The desk's inbox: list and search, one alert with its history, acknowledge. */
@Controller('inbox')
@Roles('desk')
export class InboxController {
  constructor(
    @Inject(INBOX_STORE) private readonly inbox: InboxStore,
    @Inject(AUDIT_RELAY) private readonly relay: AuditRelay,
  ) {}

  @Get()
  async list(
    @Req() req: AuthenticatedRequest,
    @Query('q') q?: string,
    @Query('noticeType') noticeType?: string,
    @Query('since') since?: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ): Promise<InboxPage> {
    const errors: { field: string; code: string; message: string }[] = [];
    if (noticeType !== undefined && !(NOTICE_TYPES as readonly string[]).includes(noticeType)) {
      errors.push({ field: 'noticeType', code: 'invalid', message: `must be one of ${NOTICE_TYPES.join(', ')}` });
    }
    const sinceDate = since === undefined ? undefined : new Date(since);
    if (sinceDate && Number.isNaN(sinceDate.getTime()))
      errors.push({ field: 'since', code: 'invalid', message: 'must be an ISO 8601 date-time' });
    // The shared storable rules: a time PostgreSQL cannot compare against is refused, not a 500 (HTTP fuzz).
    else if (sinceDate && unstorableTimestamp(sinceDate))
      errors.push({ field: 'since', code: unstorableTimestamp(sinceDate)!, message: describeUnstorable(unstorableTimestamp(sinceDate)!) });
    const size = limit === undefined ? DEFAULT_PAGE : Number(limit);
    if (!Number.isInteger(size) || size < 1 || size > 200)
      errors.push({ field: 'limit', code: 'invalid', message: 'must be an integer 1-200' });
    if (q !== undefined && q.length > 200) errors.push({ field: 'q', code: 'invalid', message: 'at most 200 characters' });
    if (errors.length > 0) throw problem(400, 'invalid-request', 'Invalid query', { errors });
    try {
      return await this.inbox.list(deskOf(req), {
        ...(q ? { q } : {}),
        ...(noticeType ? { noticeType } : {}),
        ...(sinceDate ? { since: sinceDate } : {}),
        ...(cursor ? { cursor } : {}),
        limit: size,
      });
    } catch (err) {
      if (err instanceof BadCursorError)
        throw problem(400, 'invalid-request', 'Invalid query', { errors: [{ field: 'cursor', code: 'invalid', message: err.message }] });
      throw err;
    }
  }

  @Get(':alertId')
  async get(@Req() req: AuthenticatedRequest, @Param('alertId') alertId: string): Promise<InboxDetail> {
    assertAlertId(alertId);
    const found = await this.inbox.get(deskOf(req), alertId);
    if (!found) throw notFound(alertId);
    if ('tombstone' in found) {
      throw problem(410, 'alert-purged', 'Alert purged', {
        detail: `content removed (${found.tombstone.reason})`,
        tombstone: found.tombstone,
      });
    }
    return found.detail;
  }

  @Post(':alertId/ack')
  @HttpCode(200)
  async acknowledge(
    @Req() req: AuthenticatedRequest,
    @Param('alertId') alertId: string,
  ): Promise<{ alertId: string; version: number; acknowledgedAt: string; newlyAcknowledged: boolean }> {
    assertAlertId(alertId);
    const outcome = await this.inbox.acknowledge(deskOf(req), alertId);
    if (!outcome.found) throw notFound(alertId);
    // The ACKNOWLEDGED event is in the outbox now: send it without waiting for the relay's timer.
    if (outcome.newlyAcknowledged) this.relay.kick();
    return { alertId, version: outcome.version, acknowledgedAt: outcome.at, newlyAcknowledged: outcome.newlyAcknowledged };
  }
}

/** The desk of a request the roles guard admitted as `desk`. */
export function deskOf(req: AuthenticatedRequest): Desk {
  return principalOf<Desk>(req).details;
}

function assertAlertId(alertId: string): void {
  if (!isUuid(alertId))
    throw problem(400, 'invalid-request', 'Invalid alert id', {
      errors: [{ field: 'alertId', code: 'invalid', message: 'must be a UUID' }],
    });
}

function notFound(alertId: string): Error {
  return problem(404, 'alert-not-found', 'No such alert in this desk’s inbox', { detail: alertId });
}
