import { Module } from '@nestjs/common';
import { OpenApiController } from './openapi.controller.js';

/** Serves the OpenAPI description of the API at GET /openapi.json (no credential needed). */
@Module({ controllers: [OpenApiController] })
export class OpenApiModule {}
