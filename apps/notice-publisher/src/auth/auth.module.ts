import { Module } from '@nestjs/common';
import { CREDENTIAL_VERIFIER } from '@backbone/auth';
import { IntrospectionController } from './introspection.controller.js';
import { OfficeCredentialVerifier } from './office-credential.verifier.js';

/**
 * Liaison-office authentication by bearer credential, for the roles guard the start-up function
 * applies, and the introspection route through which the other services verify office tokens.
 */
@Module({
  controllers: [IntrospectionController],
  providers: [OfficeCredentialVerifier, { provide: CREDENTIAL_VERIFIER, useExisting: OfficeCredentialVerifier }],
  exports: [CREDENTIAL_VERIFIER],
})
export class AuthModule {}
