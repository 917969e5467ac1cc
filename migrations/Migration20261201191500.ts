import { Migration } from '@mikro-orm/migrations';
import { Client } from 'pg';

// Search (src/search/): the indexes of full-text message search and of the users/channels
// autocomplete, built with CREATE INDEX CONCURRENTLY so that a table already holding millions
// of messages keeps taking sends while they build (a plain CREATE INDEX would block every
// insert, edit and delete for the whole build).
//
// - messages_body_search_index: GIN over to_tsvector('english', body), an expression index.
//   The search query filters with the same expression, so PostgreSQL keeps it current in the
//   transaction of every insert, edit and delete; a tombstone's body is NULL and so it holds
//   no lexemes. (A stored generated tsvector column would make the recheck cheaper, but adding
//   one rewrites the whole table under an exclusive lock: no sends meanwhile.)
// - messages_created_at_id_index: (created_at desc, id desc), the order of search results,
//   for the plan that walks messages newest first and stops at the page size (common words,
//   operators only) and for keyset paging.
// - users_username_key_prefix_index, users_display_name_prefix_index: text_pattern_ops, so
//   `users(search:)`'s prefix LIKEs use an index (the database collation is not C).
// - channels_name_trgm_index: pg_trgm GIN for `channels(search:)`'s substring LIKE.
//
// It also turns parallel plans off for messages (see up()).
//
// CONCURRENTLY cannot run inside a transaction, so this migration is not transactional and
// runs its statements on a session of its own, without the app's statement timeout (a build
// on a large table takes longer). A build that failed half way leaves an INVALID index
// behind; it is dropped and built again.
export const SEARCH_INDEXES: ReadonlyArray<{ name: string; table: string; definition: string }> = [
  { name: 'messages_body_search_index', table: 'messages', definition: `using gin (to_tsvector('english'::regconfig, body))` },
  { name: 'messages_created_at_id_index', table: 'messages', definition: '(created_at desc, id desc)' },
  { name: 'users_username_key_prefix_index', table: 'users', definition: '(username_key text_pattern_ops)' },
  { name: 'users_display_name_prefix_index', table: 'users', definition: '(lower(display_name) text_pattern_ops)' },
  { name: 'channels_name_trgm_index', table: 'channels', definition: 'using gin (name gin_trgm_ops)' },
];

/** The statement that builds one index (the bench times it on a million messages). */
export function createIndexStatement(index: { name: string; table: string; definition: string }): string {
  return `create index concurrently if not exists "${index.name}" on "${index.table}" ${index.definition}`;
}

export async function onOwnSession(url: string, statements: (client: Client) => Promise<void>): Promise<void> {
  const client = new Client({ connectionString: url, application_name: 'chat-api-migrate' });
  await client.connect();
  try {
    await client.query('set statement_timeout = 0');
    await statements(client);
  } finally {
    await client.end();
  }
}

export class Migration20261201191500 extends Migration {
  override isTransactional(): boolean {
    return false;
  }

  override async up(): Promise<void> {
    await onOwnSession(this.config.get('clientUrl') as string, async (client) => {
      await client.query('create extension if not exists pg_trgm');
      // No parallel plans on messages: every query of it is an index lookup or a walk that stops
      // at a page; a Gather Merge over the recency index scans far past the page before stopping
      // (measured: from: + word 6 ms serial, 550-1000 ms parallel on the bench's million rows).
      await client.query('alter table messages set (parallel_workers = 0)');
      for (const index of SEARCH_INDEXES) {
        const { rows } = await client.query<{ valid: boolean }>(
          `select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = $1`,
          [index.name],
        );
        if (rows[0] && !rows[0].valid) await client.query(`drop index concurrently if exists "${index.name}"`);
        await client.query(createIndexStatement(index));
      }
    });
  }

  override async down(): Promise<void> {
    await onOwnSession(this.config.get('clientUrl') as string, async (client) => {
      for (const index of [...SEARCH_INDEXES].reverse()) await client.query(`drop index concurrently if exists "${index.name}"`);
      await client.query('alter table messages reset (parallel_workers)');
    });
  }
}
