import { Migration } from '@mikro-orm/migrations';
import { SEND_MESSAGES_V5 } from './Migration20261203090000';

// send_messages answered its batch by joining the batch's ids to messages in a statement
// PL/pgSQL prepares once per connection. Once that connection settles on a generic plan, the
// plan stays as long as the connection does; one made while messages was small (a new
// database, or statistics from before the table grew, as where autovacuum is off) hashed the
// whole table: a sequential scan of every message for every batch, the sends slowing as the
// table grew (the bench's sends on a fresh database: half their rate within a minute, with
// PostgreSQL on CPU for the whole of each batch). The answer is now planned at each call
// (EXECUTE), with the table's current size: a few index lookups, whatever the statistics
// said when the connection opened. Every other rule is V5's, unchanged.
const ANSWER_V5 = `return query
    select r.status, msg.id, msg.channel_id, msg.seq, msg.author_id, msg.body,
           msg.created_at, msg.edited_at, msg.deleted_at, msg.upvotes, msg.downvotes, msg.thread_root_id,
           u.username, u.display_name, u.bio, u.created_at, r.retry
      from unnest(v_status, v_targets, v_retry) with ordinality as r(status, target, retry, ord)
      left join messages msg on msg.id = r.target
      left join users u on u.id = msg.author_id
     order by r.ord;`;

const ANSWER_V6 = `return query execute
    'select r.status, msg.id, msg.channel_id, msg.seq, msg.author_id, msg.body,
            msg.created_at, msg.edited_at, msg.deleted_at, msg.upvotes, msg.downvotes, msg.thread_root_id,
            u.username, u.display_name, u.bio, u.created_at, r.retry
       from unnest($1, $2, $3) with ordinality as r(status, target, retry, ord)
       left join messages msg on msg.id = r.target
       left join users u on u.id = msg.author_id
      order by r.ord'
    using v_status, v_targets, v_retry;`;

if (!SEND_MESSAGES_V5.includes(ANSWER_V5)) throw new Error('Migration20261203100000: the V5 answer it replaces was not found');

export const SEND_MESSAGES_V6 = SEND_MESSAGES_V5.replace(ANSWER_V5, ANSWER_V6);

export class Migration20261203100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(SEND_MESSAGES_V6);
  }

  override async down(): Promise<void> {
    this.addSql(SEND_MESSAGES_V5);
  }
}
