import { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { principalOf, Roles, type AuthenticatedRequest } from '@backbone/auth';
import { describeUnstorable, isUuid, unstorableTimestamp } from '@backbone/codec';
import { problem } from '@backbone/bootstrap';
import { POLICY_VERSION, PolicyValidationError } from '@backbone/policy';
import { resolve } from 'node:path';
import { AUDIT_CONTEXT, recordAccess, type AuditLoggerContext } from './audit-logger.context.js';
import {
  agencyRows,
  agencyView,
  alertTrail,
  countAgencyRows,
  exportChunks,
  setAsideRecords,
  type AgencyFilter,
  type ExportFormat,
} from './compliance.queries.js';
import {
  AnchorsUnreadableError,
  CandidatePolicyError,
  type AnchorEvidence,
  verifyLedger,
  whatIf,
  type ComplianceUser,
  type PolicyCandidate,
} from '@backbone/ledger';
import { cooperationMetrics, type CooperationMetrics } from './cooperation.metrics.js';
import { checkReplayBounds, replayToAgency, ReplayRefusedError } from './replay.service.js';

const AGENCY = /^[A-Z0-9][A-Z0-9_-]{1,63}$/;

function parseTime(name: string, raw: string | undefined, fallback?: Date): Date {
  if (raw === undefined || raw === '') {
    if (fallback) return fallback;
    throw problem(400, 'bad-request', `Query parameter ${name} is required (ISO 8601 time)`);
  }
  const d = typeof raw === 'string' ? new Date(raw) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime())) throw problem(400, 'bad-request', `Query parameter ${name} is not an ISO 8601 time: ${String(raw)}`);
  // The shared storable rules: a time the ledger (timestamptz) cannot compare against is refused here.
  const unstorable = unstorableTimestamp(d);
  if (unstorable)
    throw problem(400, 'bad-request', `${name} ${describeUnstorable(unstorable)}`, {
      errors: [{ field: name, code: unstorable, message: describeUnstorable(unstorable) }],
    });
  return d;
}

function agencyOf(raw: string | undefined): string {
  if (!raw || typeof raw !== 'string' || !AGENCY.test(raw))
    throw problem(400, 'bad-request', 'agency must be an agency code such as FR-NCB');
  return raw;
}

function filterOf(agency: string, q: Record<string, string | undefined>, defaults = false): AgencyFilter {
  const since = parseTime('since', q['since'], defaults ? new Date(0) : undefined);
  const until = parseTime('until', q['until'], defaults ? new Date(8.64e15) : undefined);
  if (until <= since) throw problem(400, 'bad-request', 'until must be after since');
  const f: AgencyFilter = { agency, since, until };
  if (q['type']) f.types = q['type'].split(',').map((s) => s.trim().toUpperCase());
  if (q['originator']) f.originator = q['originator'];
  if (q['noticeType']) f.noticeType = q['noticeType'].toUpperCase();
  return f;
}

/**
 * What-if names its candidate by `policyVersion` (a version under the policies directory; `policy`
 * is accepted as its older name) or `policyDocument` (YAML/JSON text or an object). Anything else,
 * a filesystem path above all, is refused before it reaches the loader.
 */
function whatIfCandidate(b: Record<string, unknown>): PolicyCandidate {
  const version = b['policyVersion'] ?? b['policy'];
  const document = b['policyDocument'];
  if (version !== undefined && document !== undefined) {
    throw problem(400, 'bad-request', 'give policyVersion or policyDocument, not both', { reason: 'ambiguous-policy' });
  }
  if (document !== undefined) {
    if (document === null || (typeof document !== 'string' && typeof document !== 'object')) {
      throw problem(400, 'bad-request', 'policyDocument must be YAML/JSON text or an object', { reason: 'invalid-policy' });
    }
    return { document };
  }
  if (version === undefined)
    throw problem(400, 'bad-request', 'policyVersion or policyDocument is required', { reason: 'policy-required' });
  if (typeof version !== 'string' || !POLICY_VERSION.test(version)) {
    throw problem(400, 'bad-request', 'policyVersion must be a policy version YYYY-MM-DD[.N] under the policies directory, never a path', {
      reason: 'not-a-policy-version',
    });
  }
  return { version };
}

/** Belt and braces: a message that quotes a server path gets it replaced. */
function redactPaths(text: string, policiesDir: string): string {
  let out = text;
  for (const p of new Set([resolve(policiesDir), policiesDir])) if (p) out = out.split(p).join('<policies>');
  return out.replace(/(?:\/[\w.-]+){2,}/g, '<path>');
}

function stringParams(q: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (typeof v === 'string') out[`q.${k}`] = v.slice(0, 200);
  return out;
}

function userOf(req: AuthenticatedRequest): ComplianceUser {
  return principalOf<ComplianceUser>(req).details;
}

/** The compliance API. Every route needs a compliance bearer token (replay: the replayer's) and is itself audited. */
@Controller('compliance')
@Roles('compliance-reader')
export class ComplianceController {
  constructor(@Inject(AUDIT_CONTEXT) private readonly ctx: AuditLoggerContext) {}

  @Get('verify')
  async verify(@Req() req: AuthenticatedRequest): Promise<unknown> {
    const user = userOf(req);
    // The anchors are read from Kafka while the access is recorded and the chain is walked (joining
    // a consumer group takes a while); an unreadable topic is reported (anchorProblem, not ok), the
    // chain still walked. The checkpoints are read only once the anchors' extent is fixed
    // (checkpointsAfter). Nothing is answered unless the access was recorded.
    let extentFixed: () => void = () => undefined;
    const checkpointsAfter = new Promise<void>((resolve) => (extentFixed = resolve));
    const anchorsFrom = this.ctx
      .readAnchors(() => extentFixed())
      .then(
        (anchored): AnchorEvidence => (anchored ? { anchors: anchored.anchors, maxUnanchoredTail: anchored.maxUnanchoredTail } : {}),
        (err: unknown): AnchorEvidence => {
          if (err instanceof AnchorsUnreadableError) return { anchorProblem: err.message };
          throw err;
        },
      );
    // Handled here too: when recording the access fails, verifyLedger never takes the anchors over.
    anchorsFrom.catch(() => undefined);
    await recordAccess(this.ctx, user, 'verify', {});
    return verifyLedger(this.ctx.pool, this.ctx.trustedKeys, {
      ...(this.ctx.eventKeyring ? { eventKeyring: this.ctx.eventKeyring } : {}),
      anchorsFrom,
      checkpointsAfter,
    });
  }

  /** Records the ingest set aside: parked (refused by PostgreSQL, also on the dead-letter topic) and undecodable. */
  @Get('parked')
  async parked(@Req() req: AuthenticatedRequest, @Query() q: Record<string, string | undefined>): Promise<unknown> {
    const user = userOf(req);
    const after = q['after'] ?? '0';
    if (!/^\d{1,18}$/.test(after)) throw problem(400, 'bad-request', 'after must be a ledger sequence number');
    const rawLimit = q['limit'] ?? '100';
    if (!/^\d{1,5}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 1000)
      throw problem(400, 'bad-request', 'limit must be 1..1000');
    const limit = Number(rawLimit);
    await recordAccess(this.ctx, user, 'parked', stringParams(q));
    const items = await setAsideRecords(this.ctx.pool, after, limit);
    return { items, next: items.length >= limit ? items[items.length - 1]!.seq : null };
  }

  @Get('alerts/:id/trail')
  async trail(@Req() req: AuthenticatedRequest, @Param('id') id: string): Promise<unknown> {
    const user = userOf(req);
    if (!isUuid(id)) throw problem(400, 'bad-request', 'alert id must be a UUID');
    await recordAccess(this.ctx, user, 'trail', {}, { alertId: id });
    const trail = await alertTrail(this.ctx.pool, id);
    if (trail.events.length === 0) throw problem(404, 'not-found', `No audit events for alert ${id}`);
    return trail;
  }

  @Get('agencies/:code/received')
  async received(
    @Req() req: AuthenticatedRequest,
    @Param('code') code: string,
    @Query() q: Record<string, string | undefined>,
  ): Promise<unknown> {
    const user = userOf(req);
    const agency = agencyOf(code);
    const f = filterOf(agency, q, true);
    const limit = Math.min(Math.max(Number(q['limit'] ?? 1000) || 1000, 1), 10_000);
    // A ledger sequence number: digits only (1e309, -1 or 0x10 would reach PostgreSQL as bigint text).
    const afterRaw = q['after'] ?? '0';
    if (!/^\d{1,18}$/.test(afterRaw)) throw problem(400, 'bad-request', 'after must be a ledger sequence number');
    const after = Number(afterRaw);
    await recordAccess(this.ctx, user, 'received', stringParams(q), { agency });
    const items: Record<string, unknown>[] = [];
    for await (const row of agencyRows(this.ctx.pool, f, Math.min(limit, 2000), after)) {
      items.push(agencyView(row, agency));
      if (items.length >= limit) break;
    }
    const last = items[items.length - 1];
    return {
      agency,
      since: f.since.toISOString(),
      until: f.until.toISOString(),
      items,
      next: items.length >= limit && last ? last['seq'] : null,
    };
  }

  @Get('export')
  async export(
    @Req() req: AuthenticatedRequest,
    @Query() q: Record<string, string | undefined>,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const user = userOf(req);
    const agency = agencyOf(q['agency']);
    const f = filterOf(agency, q);
    const format = (q['format'] ?? 'ndjson') as ExportFormat;
    if (format !== 'ndjson' && format !== 'csv') throw problem(400, 'bad-request', 'format must be ndjson or csv');
    await recordAccess(this.ctx, user, 'export', stringParams(q), { agency });
    // The count (for X-Total-Count, sent before the body) and the cursor's first rows are fetched
    // at once, on two connections; the rest follows as the response drains.
    const chunks = exportChunks(this.ctx.pool, f, format);
    const first = chunks.next();
    let total: number;
    try {
      total = await countAgencyRows(this.ctx.pool, f);
    } catch (err) {
      // Close the cursor (and give its connection back) once its first fetch has settled.
      void first.then(
        () => chunks.return(undefined),
        () => undefined,
      );
      throw err;
    }
    const head = await first;
    async function* body(): AsyncGenerator<string> {
      if (head.done) return;
      yield head.value;
      yield* chunks;
    }
    void reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
      .header('x-total-count', String(total))
      .header('content-disposition', `attachment; filename="${agency}-audit.${format}"`)
      .send(Readable.from(body()));
  }

  @Post('replay')
  @Roles('compliance-replayer')
  @HttpCode(200)
  async replay(@Req() req: AuthenticatedRequest, @Body() body: Record<string, string | undefined> | undefined): Promise<unknown> {
    const user = userOf(req);
    const b = body ?? {};
    const agency = agencyOf(b['agency']);
    const f = filterOf(agency, b);
    const replayReq = { agency, since: f.since, until: f.until, actor: user.name, signer: this.ctx.eventSigningKey };
    try {
      // Refused before it is audited as accessed: nothing was replayed.
      await checkReplayBounds(this.ctx.pool, replayReq);
      await recordAccess(this.ctx, user, 'replay', stringParams(b), { agency });
      return await replayToAgency(this.ctx.pool, this.ctx.replayProducer, this.ctx.topics, replayReq);
    } catch (err) {
      if (err instanceof ReplayRefusedError) throw problem(400, err.reason, 'Replay refused', { detail: err.message, reason: err.reason });
      throw err;
    }
  }

  /** Cooperation metrics (counts and durations only) for the console's charts; default: the last 30 days. */
  @Get('metrics')
  async metrics(@Req() req: AuthenticatedRequest, @Query() q: Record<string, string | undefined>): Promise<CooperationMetrics> {
    const user = userOf(req);
    const until = parseTime('until', q['until'], new Date(Date.now() + 60_000));
    const since = parseTime('since', q['since'], new Date(until.getTime() - 30 * 86_400_000));
    if (until <= since) throw problem(400, 'bad-request', 'until must be after since');
    await recordAccess(this.ctx, user, 'metrics', stringParams(q));
    return cooperationMetrics(this.ctx.pool, this.ctx.policiesDir, since, until);
  }

  @Post('what-if')
  @HttpCode(200)
  async whatIf(@Req() req: AuthenticatedRequest, @Body() body: Record<string, unknown> | undefined): Promise<unknown> {
    const user = userOf(req);
    const b = body ?? {};
    const candidate = whatIfCandidate(b);
    const since = parseTime('since', typeof b['since'] === 'string' ? b['since'] : undefined);
    const until = parseTime('until', typeof b['until'] === 'string' ? b['until'] : undefined);
    await recordAccess(this.ctx, user, 'what-if', stringParams(b as Record<string, string | undefined>));
    try {
      return await whatIf(this.ctx.pool, candidate, this.ctx.policiesDir, since, until);
    } catch (err) {
      if (err instanceof PolicyValidationError) {
        // Issues name the file they come from; only the path inside the document and the message
        // leave the server, so no error text reveals where the policies live.
        const detail = err.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
        throw problem(400, 'invalid-policy', 'The candidate policy is invalid', {
          detail: redactPaths(detail, this.ctx.policiesDir),
          reason: 'invalid-policy',
        });
      }
      if (err instanceof CandidatePolicyError) {
        throw problem(400, 'invalid-policy', 'The candidate policy cannot be loaded', {
          detail: redactPaths(err.message, this.ctx.policiesDir),
          reason: 'invalid-policy',
        });
      }
      throw err;
    }
  }
}
