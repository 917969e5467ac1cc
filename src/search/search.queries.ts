// Every SQL statement of search. Values travel as $n parameters only; the statement text is
// put together from fixed fragments chosen by which filters a query has.
import type { SqlPool } from '../shared/sql';
import { AUTHOR_COLUMNS, type AuthoredMessageRow, MESSAGE_COLUMNS } from '../messages/message.queries';

export interface MessageSearch {
  viewerId: string;
  /** websearch_to_tsquery input (search.parser.ts websearchText), or null for operators only. */
  words: string | null;
  /** A username, lowercased (users.username_key). */
  authorKey: string | null;
  /** A channel name, lowercased (channels.name). */
  channelName: string | null;
  /** created_at >= since */
  since: Date | null;
  /** created_at < until */
  until: Date | null;
  /** Keyset: only messages after this one in (created_at desc, id desc); created_at in microseconds since the epoch. */
  after: { createdUs: string; id: string } | null;
  limit: number;
}

/** The row of a search hit: a message with its author, plus the exact created_at for the cursor. */
export interface SearchHitRow extends AuthoredMessageRow {
  /** created_at in microseconds since the epoch, as text (a JS Date keeps milliseconds only). */
  created_us: string;
}

/**
 * The viewer's matching messages, newest first. What the viewer may read mirrors
 * channels/access.ts: every PUBLIC channel and the channels they are a member of (PRIVATE and
 * DIRECT included); never a tombstone. The words go through websearch_to_tsquery and meet
 * the stored vector `body_search` (kept by a trigger), so the planner can pick between its GIN
 * index (rare words) and walking messages_created_at_id_index newest first until the page is
 * full (common words, phrases, operators only), each row checked against the stored vector
 * rather than a re-parsed body. The statement is not prepared by name: a generic plan
 * would pick one of the two for every word.
 */
export async function searchMessages(sql: SqlPool, search: MessageSearch): Promise<SearchHitRow[]> {
  const values: unknown[] = [search.viewerId];
  const conditions = ['m.deleted_at is null'];
  if (search.channelName !== null) {
    // One channel: it must be readable itself.
    const name = `$${values.push(search.channelName)}`;
    conditions.push(
      `m.channel_id = (select c.id from channels c
                        where c.name = ${name}
                          and (c.kind = 'PUBLIC' or exists (select 1 from memberships mb where mb.channel_id = c.id and mb.user_id = $1)))`,
    );
  } else {
    // A join filter, not `channel_id = any(<readable ids>)`: with that, the planner ANDs a
    // bitmap of every readable message (half the table) into a rare word's few hits.
    conditions.push(`(c.kind = 'PUBLIC' or exists (select 1 from memberships mb where mb.channel_id = m.channel_id and mb.user_id = $1))`);
  }
  if (search.words !== null) conditions.push(`m.body_search @@ websearch_to_tsquery('english'::regconfig, $${values.push(search.words)})`);
  if (search.authorKey !== null) conditions.push(`m.author_id = (select a.id from users a where a.username_key = $${values.push(search.authorKey)})`);
  if (search.since !== null) conditions.push(`m.created_at >= $${values.push(search.since)}`);
  if (search.until !== null) conditions.push(`m.created_at < $${values.push(search.until)}`);
  if (search.after !== null) {
    const createdUs = `$${values.push(search.after.createdUs)}`;
    conditions.push(`(m.created_at, m.id) < (timestamptz 'epoch' + ${createdUs}::bigint * interval '1 microsecond', $${values.push(search.after.id)}::uuid)`);
  }
  return sql.query<SearchHitRow>(
    `select ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS},
            (extract(epoch from m.created_at) * 1000000)::bigint::text as created_us
       from messages m join users u on u.id = m.author_id${search.channelName === null ? ' join channels c on c.id = m.channel_id' : ''}
      where ${conditions.join('\n        and ')}
      order by m.created_at desc, m.id desc
      limit $${values.push(search.limit)}`,
    values,
  );
}
