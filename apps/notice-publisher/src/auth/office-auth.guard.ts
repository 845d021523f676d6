import { createParamDecorator, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerFrom } from '@backbone/auth';
import { problem } from '@backbone/bootstrap';
import { CredentialStore } from '../persistence/credential.store.js';
import { AGENCY_DIRECTORY } from '../publisher.tokens.js';
import type { AgencyDirectory, AgencyEntry } from '../registry/agency-directory.js';

/** The authenticated liaison office; the only source of an alert's sender. */
export interface Office {
  readonly agency: AgencyEntry;
}

export type OfficeRequest = FastifyRequest & { office?: Office };

/** Bearer credential → office. 401 with a named reason otherwise (audited by the refusal hook). */
@Injectable()
export class OfficeAuthGuard implements CanActivate {
  constructor(
    private readonly credentials: CredentialStore,
    @Inject(AGENCY_DIRECTORY) private readonly agencies: AgencyDirectory,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<OfficeRequest>();
    const refuse = (reason: string, detail: string): never => {
      void http.getResponse<FastifyReply>().header('WWW-Authenticate', 'Bearer realm="backbone"');
      throw problem(401, 'unauthenticated', 'Authentication required', { detail, reason });
    };
    const token = bearerFrom(req.headers.authorization);
    if (token === null) return refuse('missing-credential', 'Send Authorization: Bearer <office token>.');
    const check = await this.credentials.verify(token);
    if (!check.ok) return refuse(check.reason, 'The credential is not valid.');
    const agency = this.agencies.get(check.agency);
    // A credential of an agency removed from the registry no longer authorises anything.
    if (!agency) return refuse('agency-not-in-registry', 'The credential belongs to an agency that is no longer a member.');
    req.office = { agency };
    return true;
  }
}

export const CurrentOffice = createParamDecorator((_: unknown, context: ExecutionContext): Office => {
  const office = context.switchToHttp().getRequest<OfficeRequest>().office;
  // The guard runs first on every route using this decorator; reaching here without it is a wiring bug.
  if (!office) throw new Error('CurrentOffice used on a route without OfficeAuthGuard');
  return office;
});
