import { Migration } from '@mikro-orm/migrations';
import { SEND_MESSAGES_V4 } from './Migration20261202100000';

// send_messages looked its batch's idempotency keys up with a join the planner ran as a scan of
// every message of the channel (the unique index's channel_id prefix, the key compared row by
// row): a send into a channel of 50,000 messages read 100,000 index entries, most of a send's
// time once channels grow. Now each key is one lookup of the (channel, author, key) index
// (LATERAL with LIMIT 1, so the planner cannot turn it back into that join), and a batch
// without keys (most sends) looks up nothing. Every other rule is V4's, unchanged.
const KEY_LOOKUP_V4 = `select coalesce(jsonb_object_agg(msg.author_id::text || '|' || msg.client_message_id, msg.id), '{}') into v_existing
    from messages msg
    join unnest(p_authors, p_keys) as k(author_id, client_message_id)
      on msg.channel_id = p_channel and msg.author_id = k.author_id and msg.client_message_id = k.client_message_id;`;

const KEY_LOOKUP_V5 = `if exists (select 1 from unnest(p_keys) as key where key is not null) then
    select coalesce(jsonb_object_agg(k.author_id::text || '|' || k.client_message_id, found.id), '{}') into v_existing
      from unnest(p_authors, p_keys) as k(author_id, client_message_id)
      cross join lateral (
        select msg.id from messages msg
         where msg.channel_id = p_channel and msg.author_id = k.author_id and msg.client_message_id = k.client_message_id
         limit 1
      ) found
     where k.client_message_id is not null;
  end if;`;

if (!SEND_MESSAGES_V4.includes(KEY_LOOKUP_V4)) throw new Error('Migration20261203090000: the V4 key lookup it replaces was not found');

export const SEND_MESSAGES_V5 = SEND_MESSAGES_V4.replace(KEY_LOOKUP_V4, KEY_LOOKUP_V5).replace('  v_existing jsonb;', "  v_existing jsonb := '{}';");

export class Migration20261203090000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(SEND_MESSAGES_V5);
  }

  override async down(): Promise<void> {
    this.addSql(SEND_MESSAGES_V4);
  }
}
