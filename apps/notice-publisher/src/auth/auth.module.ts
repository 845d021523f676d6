import { Module } from '@nestjs/common';
import { CREDENTIAL_VERIFIER } from '@backbone/auth';
import { OfficeCredentialVerifier } from './office-credential.verifier.js';

/** Liaison-office authentication by bearer credential, for the roles guard the start-up function applies. */
@Module({ providers: [{ provide: CREDENTIAL_VERIFIER, useClass: OfficeCredentialVerifier }], exports: [CREDENTIAL_VERIFIER] })
export class AuthModule {}
