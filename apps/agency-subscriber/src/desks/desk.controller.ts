import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { Roles } from '@backbone/auth';
import { problem } from '@backbone/bootstrap';
import { DESK_STORE } from '../subscriber.tokens.js';
import { DeskFilterError, type DeskFilterInput, assertDeskName, DeskExistsError, type Desk, type DeskStore } from '@backbone/inbox-store';

interface CreateDeskBody {
  name?: unknown;
  filter?: unknown;
}

/** POST/GET/DELETE /desks: the agency admin manages its desks; the token is in the POST answer only. */
@Controller('desks')
@Roles('operator')
export class DeskController {
  constructor(@Inject(DESK_STORE) private readonly desks: DeskStore) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: CreateDeskBody | undefined): Promise<{ desk: Desk; token: string }> {
    const name = body?.name;
    if (typeof name !== 'string') throw invalid([{ field: 'name', code: 'required', message: 'name is required' }]);
    try {
      assertDeskName(name);
    } catch (err) {
      throw invalid([{ field: 'name', code: 'invalid', message: (err as Error).message }]);
    }
    const filter = body?.filter ?? {};
    if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
      throw invalid([{ field: 'filter', code: 'invalid', message: 'filter must be an object' }]);
    }
    try {
      return await this.desks.create(name, filter as DeskFilterInput);
    } catch (err) {
      if (err instanceof DeskFilterError)
        throw invalid(err.problems.map((p) => ({ field: `filter.${p.field}`, code: 'invalid', message: p.message })));
      if (err instanceof DeskExistsError) throw problem(409, 'desk-exists', 'Desk already exists', { detail: err.message });
      throw err;
    }
  }

  @Get()
  async list(): Promise<{ desks: Desk[] }> {
    return { desks: await this.desks.list() };
  }

  @Delete(':name')
  @HttpCode(204)
  async remove(@Param('name') name: string): Promise<void> {
    if (!(await this.desks.remove(name))) throw problem(404, 'desk-not-found', 'No such desk', { detail: name });
  }
}

function invalid(errors: { field: string; code: string; message: string }[]): Error {
  return problem(400, 'invalid-request', 'Invalid desk', { errors });
}
