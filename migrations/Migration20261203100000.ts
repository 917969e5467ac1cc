import { Migration } from '@mikro-orm/migrations';
import { SEND_MESSAGES_V5 } from './Migration20261203090000';

// send_messages answered its batch by joining the batch's ids to messages, in a statement
// PL/pgSQL prepares once per connection. Once that connection settles on a generic plan, the
// plan stays as long as the connection does; one made while messages was small (a new
// database, or statistics from before the table grew, as where autovacuum is off) hashed the
// whole table: a sequential scan of every message for every batch, the sends slowing as the
// table grew (the bench's sends on a fresh database: half their rate within a minute, with
// PostgreSQL on CPU for the whole of each batch). Every statement of the function reads a
// handful of rows by key (the channel, its members, the batch's ids and keys), for which
// nested loops over the indexes are always the right plan: the function now plans that way
// whatever the statistics said when a connection first planned it. (Planning the answer at
// each call instead also cured it, for about a quarter more database CPU per batch.) Every
// rule is V5's, unchanged.
const HEADER_V5 = 'language plpgsql as $fn$';

const HEADER_V6 = `language plpgsql
set enable_seqscan = off
set enable_hashjoin = off
set enable_mergejoin = off
as $fn$`;

if (!SEND_MESSAGES_V5.includes(HEADER_V5)) throw new Error('Migration20261203100000: the V5 header it replaces was not found');

export const SEND_MESSAGES_V6 = SEND_MESSAGES_V5.replace(HEADER_V5, HEADER_V6);

export class Migration20261203100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(SEND_MESSAGES_V6);
  }

  override async down(): Promise<void> {
    // create or replace sets every property it does not name back to its default: no settings.
    this.addSql(SEND_MESSAGES_V5);
  }
}
