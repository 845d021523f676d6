import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { principalOf, Roles, type AuthenticatedRequest } from '@backbone/auth';
import { describeUnstorable, isUuid, UnstorableRecordError } from '@backbone/codec';
import { problem } from '@backbone/bootstrap';
import type { HeldAlert, Reviewer } from '@backbone/gate-store';
import { HoldExpiredError, HoldSupersededError } from './hold.release.js';
import { NoHoldError, type ReleaseResult } from './hold.releaser.js';
import { PolicyGateRuntime } from './policy-gate.runtime.js';

/** Parses a release body: `{"agencies"?: string[], "version"?: int >= 1}`; a problem names the bad field. */
export function parseReleaseBody(body: unknown): { agencies?: string[]; version?: number } {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw problem(400, 'invalid-release', 'Invalid release request', { detail: 'the body must be a JSON object' });
  const b = body as Record<string, unknown>;
  const unknownKeys = Object.keys(b).filter((k) => k !== 'agencies' && k !== 'version');
  if (unknownKeys.length > 0)
    throw problem(400, 'invalid-release', 'Invalid release request', { detail: `unknown field ${unknownKeys[0]}` });
  const out: { agencies?: string[]; version?: number } = {};
  if (b['agencies'] !== undefined) {
    const a = b['agencies'];
    if (!Array.isArray(a) || a.length === 0 || !a.every((x) => typeof x === 'string' && /^[A-Z0-9-]{2,40}$/.test(x))) {
      throw problem(400, 'invalid-release', 'Invalid release request', { detail: 'agencies must be a non-empty list of agency codes' });
    }
    out.agencies = a as string[];
  }
  if (b['version'] !== undefined) {
    const v = b['version'];
    // Versions are PostgreSQL integers: a larger one is refused here, not overflowed in a query.
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2_147_483_647) {
      throw problem(400, 'invalid-release', 'Invalid release request', { detail: 'version must be an integer from 1 to 2147483647' });
    }
    out.version = v;
  }
  return out;
}

/** Pending review holds, and their release by an authenticated reviewer. */
@Controller('holds')
@Roles('hold-reviewer')
export class HoldsController {
  constructor(private readonly runner: PolicyGateRuntime) {}

  @Get()
  async list(@Query('limit') limit?: string): Promise<{ holds: HeldAlert[] }> {
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      throw problem(400, 'invalid-limit', 'Invalid limit', { detail: 'limit must be an integer from 1 to 1000' });
    return { holds: await this.runner.running.repository.pendingHolds(n) };
  }

  @Post(':alertId/release')
  @HttpCode(200)
  async release(
    @Param('alertId') alertId: string,
    @Req() request: AuthenticatedRequest,
    @Body() body: unknown,
  ): Promise<ReleaseResult & { releasedBy: string }> {
    const reviewer = principalOf<Reviewer>(request).details;
    if (!isUuid(alertId)) throw problem(400, 'invalid-alert-id', 'Invalid alert id', { detail: `${alertId} is not a UUID` });
    const req = parseReleaseBody(body);
    try {
      const result = await this.runner.running.releaser.release({ alertId, ...req, releasedBy: reviewer.name });
      return { ...result, releasedBy: reviewer.name };
    } catch (err) {
      if (err instanceof HoldExpiredError) throw problem(409, 'hold-expired', 'The held alert has expired', { detail: err.message });
      if (err instanceof HoldSupersededError)
        throw problem(409, 'hold-superseded', 'A newer version of the held alert has been decided', { detail: err.message });
      if (err instanceof NoHoldError) throw problem(404, 'unknown-hold', 'No such hold', { detail: err.message });
      if (err instanceof UnstorableRecordError) {
        throw problem(422, 'unstorable-record', 'The held alert cannot be stored by its recipients', {
          detail: err.message,
          errors: err.fields.map((f) => ({ field: f.field, code: f.reason, message: describeUnstorable(f.reason) })),
        });
      }
      throw err;
    }
  }
}
