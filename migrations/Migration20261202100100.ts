import { Migration } from '@mikro-orm/migrations';
import { Client } from 'pg';

// The partial indexes of threads (issue 15), built CONCURRENTLY so a table already holding
// millions of messages keeps taking sends while they build (see Migration20261201191500):
// - messages_channel_top_level_index: (channel_id, seq) of messages that are not replies, the
//   index channel history (`messages`) walks, so replies are skipped by the index rather than
//   filtered out after the fact;
// - messages_thread_replies_index: (thread_root_id, seq) of replies, the index `threadReplies`
//   walks and thread unread counts use.
// Not transactional (CONCURRENTLY cannot run in a transaction); an INVALID leftover of a
// failed build is dropped and built again.
export const THREAD_INDEXES: ReadonlyArray<{ name: string; definition: string }> = [
  { name: 'messages_channel_top_level_index', definition: '(channel_id, seq) where thread_root_id is null' },
  { name: 'messages_thread_replies_index', definition: '(thread_root_id, seq) where thread_root_id is not null' },
];

export class Migration20261202100100 extends Migration {
  override isTransactional(): boolean {
    return false;
  }

  override async up(): Promise<void> {
    await onOwnSession(this.config.get('clientUrl') as string, async (client) => {
      for (const index of THREAD_INDEXES) {
        const { rows } = await client.query<{ valid: boolean }>(
          `select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = $1`,
          [index.name],
        );
        if (rows[0] && !rows[0].valid) await client.query(`drop index concurrently if exists "${index.name}"`);
        await client.query(`create index concurrently if not exists "${index.name}" on "messages" ${index.definition}`);
      }
    });
  }

  override async down(): Promise<void> {
    await onOwnSession(this.config.get('clientUrl') as string, async (client) => {
      for (const index of [...THREAD_INDEXES].reverse()) await client.query(`drop index concurrently if exists "${index.name}"`);
    });
  }
}

async function onOwnSession(url: string, statements: (client: Client) => Promise<void>): Promise<void> {
  const client = new Client({ connectionString: url, application_name: 'chat-api-migrate' });
  await client.connect();
  try {
    await client.query('set statement_timeout = 0');
    await statements(client);
  } finally {
    await client.end();
  }
}
