import { Controller, Get, Inject, Query, Req, Res, type OnModuleDestroy } from '@nestjs/common';
import { Roles, type AuthenticatedRequest } from '@backbone/auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LOGGER, problem, type Logger } from '@backbone/bootstrap';
import { deskOf } from '../inbox/inbox.controller.js';
import type { InboxStore } from '../inbox/inbox.store.js';
import type { DeskStore } from '@backbone/inbox-store';
import { DESK_STORE, INBOX_NOTIFIER, INBOX_STORE, SUBSCRIBER_OPTIONS } from '../subscriber.tokens.js';
import { FeedStreamRegistry, FeedStreamSession } from './feed.stream.js';
import type { InboxNotifier } from './inbox.notifier.js';

export interface StreamOptions {
  heartbeatMs: number;
  /** Concurrent streams one desk may hold open; one more is refused with 429. */
  maxStreamsPerDesk: number;
  /** How often an open stream re-checks its desk's credential (deleted desk, revoked token). */
  streamRevalidateMs: number;
}

/** GET /stream: the desk's live feed as Server-Sent Events, resumable with Last-Event-ID. */
@Controller()
export class StreamController implements OnModuleDestroy {
  private readonly registry = new FeedStreamRegistry();

  constructor(
    @Inject(INBOX_STORE) private readonly inbox: InboxStore,
    @Inject(INBOX_NOTIFIER) private readonly notifier: InboxNotifier,
    @Inject(DESK_STORE) private readonly desks: DeskStore,
    @Inject(SUBSCRIBER_OPTIONS) private readonly options: StreamOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('stream')
  @Roles('desk')
  stream(
    @Req() req: FastifyRequest & AuthenticatedRequest,
    @Res() reply: FastifyReply,
    @Query('lastEventId') lastEventIdQuery?: string,
  ): void {
    const desk = deskOf(req);
    // EventSource sends Last-Event-ID on reconnect; the query parameter serves clients that cannot set headers.
    const header = req.headers['last-event-id'];
    const raw = (Array.isArray(header) ? header[0] : header) ?? lastEventIdQuery ?? '0';
    if (!/^\d{1,15}$/.test(raw.trim())) {
      throw problem(400, 'invalid-request', 'Invalid Last-Event-ID', {
        errors: [{ field: 'Last-Event-ID', code: 'invalid', message: 'must be an inbox sequence number' }],
      });
    }
    const lastEventId = Number(raw.trim());
    if (this.registry.countFor(desk.deskId) >= this.options.maxStreamsPerDesk) {
      throw problem(429, 'too-many-streams', `Desk ${desk.name} already has ${this.options.maxStreamsPerDesk} open streams`, {
        reason: 'too-many-streams',
      });
    }
    const token = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    // From here on the response is written by hand: Fastify must not try to send it too.
    void reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // HEAD (Fastify answers it with the GET route): the head is the whole answer. Node sends no
    // body for HEAD, so without end() the client would wait for ever (found by the HTTP fuzz).
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.write('retry: 2000\n\n');
    const session = new FeedStreamSession(
      res,
      this.inbox,
      this.notifier,
      desk.filter,
      lastEventId,
      this.logger,
      this.options.heartbeatMs,
      (s) => this.registry.remove(s),
      desk.deskId,
      async () => (await this.desks.authenticate(token))?.deskId === desk.deskId,
      this.options.streamRevalidateMs,
    );
    this.registry.add(session);
    session.start();
  }

  onModuleDestroy(): void {
    this.registry.closeAll();
  }
}
