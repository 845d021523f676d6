import { Module } from '@nestjs/common';
import { OfficeAuthGuard } from './office-auth.guard.js';

/** Liaison-office authentication by bearer credential. */
@Module({ providers: [OfficeAuthGuard], exports: [OfficeAuthGuard] })
export class AuthModule {}
