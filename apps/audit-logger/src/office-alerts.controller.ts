import { Controller, Get, Inject, Param, Query, Req } from '@nestjs/common';
import { principalOf, Roles, type AuthenticatedRequest } from '@backbone/auth';
import { problem } from '@backbone/bootstrap';
import { isUuid } from '@backbone/codec';
import type { IntrospectedOffice } from '@backbone/office-auth';
import { AUDIT_CONTEXT, type AuditLoggerContext } from './audit-logger.context.js';
import { officeAlertRecipients, type AlertRecipients } from './office-recipients.queries.js';

/** Most alerts one list request may ask about (the console lists up to 100). */
export const MAX_ALERTS_PER_REQUEST = 100;

/**
 * A liaison office's view of its own alerts in the ledger: per recipient agency, delivered /
 * acknowledged / held / denied. Office tokens only (verified by the publisher's introspection
 * route); an alert the office did not send answers 404, as an unknown one does.
 */
@Controller('office/alerts')
@Roles('office')
export class OfficeAlertsController {
  constructor(@Inject(AUDIT_CONTEXT) private readonly ctx: AuditLoggerContext) {}

  /** Several alerts at once (`?ids=a,b,…`): those not the office's are left out, not refused. */
  @Get('recipients')
  async list(@Req() req: AuthenticatedRequest, @Query('ids') ids: string | undefined): Promise<{ items: AlertRecipients[] }> {
    const office = principalOf<IntrospectedOffice>(req).details;
    const list =
      typeof ids === 'string'
        ? ids
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [];
    if (list.length > MAX_ALERTS_PER_REQUEST)
      throw problem(400, 'bad-request', `At most ${MAX_ALERTS_PER_REQUEST} alert ids per request`, { reason: 'too-many-ids' });
    const bad = list.find((id) => !isUuid(id));
    if (bad !== undefined)
      throw problem(400, 'validation-failed', 'ids must be alert ids (UUIDs)', {
        errors: [{ field: 'ids', code: 'invalid-format', message: 'must be a comma-separated list of UUIDs' }],
      });
    return { items: await officeAlertRecipients(this.ctx.pool, office.agency, list) };
  }

  @Get(':alertId/recipients')
  async one(@Req() req: AuthenticatedRequest, @Param('alertId') alertId: string): Promise<AlertRecipients> {
    const office = principalOf<IntrospectedOffice>(req).details;
    if (!isUuid(alertId)) throw problem(400, 'bad-request', 'alertId must be a UUID');
    const [found] = await officeAlertRecipients(this.ctx.pool, office.agency, [alertId]);
    // Another office's alert and an unknown one look the same: no oracle for who sent what.
    if (!found) throw problem(404, 'not-found', 'No alert of this office with that id', { reason: 'alert-not-found' });
    return found;
  }
}
