import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '@backbone/auth';
import { openApiDocument } from './openapi.document.js';

@Controller()
@Public()
export class OpenApiController {
  private readonly document = openApiDocument();

  @Get('openapi.json')
  @Header('Content-Type', 'application/json; charset=utf-8')
  openapi(): Record<string, unknown> {
    return this.document;
  }
}
