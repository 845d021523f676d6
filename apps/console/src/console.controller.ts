import { Controller, Delete, Get, Inject, Options, Patch, Post, Put, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '@backbone/auth';
import { handleConsoleRequest, type ConsoleOptions } from './console.server.js';
import { ConsoleEdge } from './console.edge.js';
import { CONSOLE_OPTIONS } from './console.tokens.js';

/**
 * Every path the observability routes do not take: public, because the console holds no
 * credentials of its own; the services behind the proxy authenticate the forwarded bearer token.
 * The reply is hijacked: the handler writes the raw response (SSE streams go through unbuffered).
 */
@Controller()
@Public()
export class ConsoleController {
  constructor(
    @Inject(CONSOLE_OPTIONS) private readonly opts: ConsoleOptions,
    private readonly edge: ConsoleEdge,
  ) {}

  private handle(req: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    this.edge.track(reply.raw);
    handleConsoleRequest(req.raw, reply.raw, this.opts);
  }

  @Get('*')
  get(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    this.handle(req, reply);
  }

  @Post('*')
  post(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    this.handle(req, reply);
  }

  @Put('*')
  put(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    this.handle(req, reply);
  }

  @Patch('*')
  patch(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    this.handle(req, reply);
  }

  @Delete('*')
  delete(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    this.handle(req, reply);
  }

  @Options('*')
  options(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    this.handle(req, reply);
  }
}
