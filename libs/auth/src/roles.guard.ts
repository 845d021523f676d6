import { HttpException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerFrom } from './bearer-token.js';
import {
  CREDENTIAL_VERIFIER,
  isIdentifiedRefusal,
  type AuthenticatedRequest,
  type CredentialVerifier,
  type VerifierRefusal,
} from './principal.js';
import { PUBLIC_METADATA, ROLES_METADATA, type Role } from './roles.js';

/**
 * The body of a refusal: RFC 9457 problem fields (`type` is a slug the problem filter turns into
 * a URI) plus a named `reason`, which the services' refusal audits record.
 */
export class AuthRefusal extends HttpException {
  constructor(status: 401 | 403, body: { type: string; title: string; reason: string; detail?: string } & Record<string, unknown>) {
    super({ ...body, status }, status);
  }
}

/**
 * The one guard, applied to every route by the start-up function. Deny by default: a route with
 * neither @Roles nor @Public is refused (and the service would not have started with one).
 * 401: no credential, or one the verifier does not know; 403: a known caller without an admitted role.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CREDENTIAL_VERIFIER) private readonly verifier: CredentialVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Kafka handlers (the subscriber's feed consumer) are not HTTP routes: the broker's ACLs guard them.
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_METADATA, targets) === true;
    const admitted = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_METADATA, targets) ?? [];
    const http = context.switchToHttp();
    const req = http.getRequest<FastifyRequest & AuthenticatedRequest>();
    const reply = http.getResponse<FastifyReply>();
    const token = bearerFrom(req.headers.authorization);
    if (isPublic) {
      // A public route still learns who an operator is (readiness shows them dependency errors).
      if (token !== null) {
        const v = await this.verifier.verify(token, admitted).catch(() => null);
        if (v?.ok) req.principal = v.principal;
      }
      return true;
    }
    if (admitted.length === 0)
      throw refusal(req, reply, { ok: false, status: 403, reason: 'route-without-roles', title: 'This route admits no one' });
    if (token === null) {
      throw refusal(req, reply, { ok: false, status: 401, reason: 'missing-credential', detail: 'Send Authorization: Bearer <token>.' });
    }
    const v = await this.verifier.verify(token, admitted);
    if (!v.ok) throw refusal(req, reply, v);
    if (!v.principal.roles.some((r) => admitted.includes(r))) {
      req.principal = v.principal;
      throw refusal(req, reply, {
        ok: false,
        status: 403,
        reason: 'role-not-admitted',
        title: 'Not allowed for this credential',
        detail: `This route admits: ${admitted.join(', ')}.`,
      });
    }
    req.principal = v.principal;
    return true;
  }
}

function refusal(req: AuthenticatedRequest, reply: FastifyReply, r: VerifierRefusal): AuthRefusal {
  const status = r.status ?? 401;
  // Recorded for the refusal audit (RefusalAuditModule, @backbone/kafka), which answers after it.
  req.refusal = {
    status,
    reason: r.reason,
    identified: isIdentifiedRefusal(req.principal !== undefined, r.reason),
    subject: req.principal?.subject ?? null,
    agency: req.principal?.agency ?? null,
  };
  if (status === 401) void reply.header('WWW-Authenticate', 'Bearer realm="backbone"');
  return new AuthRefusal(status, {
    ...r.extra,
    type: r.type ?? (status === 401 ? 'unauthenticated' : 'forbidden'),
    title: r.title ?? (status === 401 ? 'Authentication required' : 'Forbidden'),
    reason: r.reason,
    ...(r.detail !== undefined ? { detail: r.detail } : {}),
  });
}
