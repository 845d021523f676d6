import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Roles } from '@backbone/auth';
import { problem } from '@backbone/bootstrap';
import { INTROSPECTION_PATH, type IntrospectionAnswer } from '@backbone/office-auth';
import { OfficeCredentialVerifier } from './office-credential.verifier.js';

/**
 * Office token introspection for the other services (policy gate, audit logger): they verify a
 * liaison office's token by asking here, with their own service credential, instead of reading
 * this service's credential table. Answers whether the token is valid now and whose it is;
 * never the token's hash or anything else about the office. ADR 0007.
 */
@Controller()
@Roles('service')
export class IntrospectionController {
  constructor(private readonly verifier: OfficeCredentialVerifier) {}

  @Post(INTROSPECTION_PATH)
  @HttpCode(200)
  async introspect(@Body() body: unknown): Promise<IntrospectionAnswer> {
    const token = (body as { token?: unknown } | null)?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > 200)
      throw problem(400, 'validation-failed', 'A token to introspect is required', {
        errors: [{ field: '/token', code: 'required', message: 'token must be a string of 1-200 characters' }],
      });
    return this.verifier.introspect(token);
  }
}
