import { Module } from '@nestjs/common';
import { AlertsController } from './alerts.controller.js';
import { AlertsService } from './alerts.service.js';
import { PublicationReconciler } from '../reconcile/publication.reconciler.js';

/** Create, update, cancel, status and listing of a liaison office's alerts. */
@Module({ controllers: [AlertsController], providers: [AlertsService, PublicationReconciler] })
export class AlertsModule {}
