import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { bearerFrom, tokenMatches } from '@backbone/auth';
import { problem } from '@backbone/bootstrap';
import { DESK_STORE, SUBSCRIBER_OPTIONS } from '../subscriber.tokens.js';
import type { Desk, DeskStore } from './desk.store.js';

export type DeskRequest = FastifyRequest & { desk?: Desk };

export interface GuardOptions {
  agency: string;
  adminTokenHash: string | null;
}

/**
 * A desk's bearer token, looked up in this agency's own token store: a token of another agency's
 * desk is simply unknown here, and is refused like any other bad token.
 */
@Injectable()
export class DeskAuthGuard implements CanActivate {
  constructor(
    @Inject(DESK_STORE) private readonly desks: DeskStore,
    @Inject(SUBSCRIBER_OPTIONS) private readonly options: GuardOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<DeskRequest>();
    const token = bearerFrom(request.headers.authorization);
    if (!token) throw unauthenticated(this.options.agency, 'a desk bearer token is required');
    const desk = await this.desks.authenticate(token);
    if (!desk) throw unauthenticated(this.options.agency, `the token is not a desk token of ${this.options.agency}`);
    request.desk = desk;
    return true;
  }
}

/** The agency-admin credential for desk management: a token whose SHA-256 is configured. */
@Injectable()
export class AgencyAdminGuard implements CanActivate {
  constructor(@Inject(SUBSCRIBER_OPTIONS) private readonly options: GuardOptions) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!this.options.adminTokenHash) {
      throw problem(403, 'desk-admin-disabled', 'Desk management over HTTP is not enabled', {
        detail: 'Set ADMIN_TOKEN_HASH, or manage desks with `backbone desks`.',
      });
    }
    const token = bearerFrom(request.headers.authorization);
    if (!token) throw unauthenticated(this.options.agency, 'an agency-admin bearer token is required');
    if (!tokenMatches(token, this.options.adminTokenHash)) {
      throw problem(403, 'forbidden', 'Not the agency-admin credential', { detail: `Only the agency admin of ${this.options.agency} manages its desks.` });
    }
    return true;
  }
}

function unauthenticated(agency: string, detail: string): Error {
  return problem(401, 'unauthenticated', 'Authentication required', { detail, realm: agency });
}
