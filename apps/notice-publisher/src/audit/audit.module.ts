import { Module } from '@nestjs/common';
import { RefusalAuditHook } from './refusal-audit.hook.js';

/** REJECTED audit events for every refused request. */
@Module({ providers: [RefusalAuditHook] })
export class AuditModule {}
