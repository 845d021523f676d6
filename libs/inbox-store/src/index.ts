// An agency subscriber's database: its schema and migrations, and its desks with their filters.
// Written by apps/agency-subscriber; the CLI manages desks through it directly.
export { openSubscriberDatabase, subscriberSchemaFor } from './subscriber.database.js';
export { DeskStore, DeskExistsError, assertDeskName, type Desk, type CreatedDesk } from './desk.store.js';
export {
  DeskFilterError,
  filterConditions,
  normaliseDeskFilter,
  type DeskFilter,
  type DeskFilterInput,
  type FilterColumns,
} from './desk.filter.js';
