// Every SQL statement on message_pins.
import type { MessageSnapshot } from '../domain/snapshots';
import { AUTHOR_COLUMNS, type AuthoredMessageRow, authoredSnapshot, MESSAGE_COLUMNS } from '../messages/message.queries';
import type { SqlClient, SqlPool } from '../shared/sql';

export type PinOutcome = 'changed' | 'unchanged' | 'full' | 'gone';

/**
 * Pins the message unless it is pinned, in the caller's transaction. A transaction-scoped
 * advisory lock per channel serializes the pins of one channel (and nothing else: sends lock
 * the channel row, not this), so the count read under it is exact and the cap holds under
 * concurrency. The message is taken FOR KEY SHARE: a concurrent deletion orders before
 * (then it is 'gone') or after (then it removes the pin).
 */
export async function pinMessage(tx: SqlClient, channelId: string, messageId: string, userId: string, maxPins: number): Promise<PinOutcome> {
  await tx.query(`select pg_advisory_xact_lock(hashtextextended('message_pins:' || $1::text, 0))`, [channelId], 'pin_lock');
  const rows = await tx.query<{ live: number; pinned: number; pins: number }>(
    `with live as (select m.id from messages m where m.id = $1 and m.deleted_at is null for key share)
     select (select count(*) from live)::int as live,
            (select count(*) from message_pins p where p.message_id = $1)::int as pinned,
            (select count(*) from message_pins p where p.channel_id = $2)::int as pins`,
    [messageId, channelId],
    'pin_state',
  );
  const { live, pinned, pins } = rows[0];
  if (live === 0) return 'gone';
  if (pinned > 0) return 'unchanged';
  if (pins >= maxPins) return 'full';
  await tx.query('insert into message_pins (message_id, channel_id, pinned_by_id) values ($1, $2, $3)', [messageId, channelId, userId], 'pin_insert');
  return 'changed';
}

/** Unpins the message if it is pinned, in one statement ('gone' when it is deleted). */
export async function unpinMessage(db: SqlClient, messageId: string): Promise<Exclude<PinOutcome, 'full'>> {
  const rows = await db.query<{ live: number; changed: number }>(
    `with live as (select m.id from messages m where m.id = $1 and m.deleted_at is null for key share),
          removed as (delete from message_pins p using live where p.message_id = live.id returning 1)
     select (select count(*) from live)::int as live, (select count(*) from removed)::int as changed`,
    [messageId],
    'pin_remove',
  );
  if (rows[0].live === 0) return 'gone';
  return rows[0].changed > 0 ? 'changed' : 'unchanged';
}

/** Drops the pin of a message (its deletion, in the deleting transaction). */
export async function deletePinOf(tx: SqlClient, messageId: string): Promise<void> {
  await tx.query('delete from message_pins where message_id = $1', [messageId]);
}

/** Which of the messages are pinned. */
export async function pinnedAmong(db: SqlClient, messageIds: readonly string[]): Promise<boolean[]> {
  const rows = await db.query<{ message_id: string }>('select message_id from message_pins where message_id = any($1::uuid[])', [messageIds], 'pins_among');
  const pinned = new Set(rows.map((row) => row.message_id));
  return messageIds.map((id) => pinned.has(id));
}

/** Each channel's pinned messages with their authors, most recently pinned first, in one statement. */
export async function pinnedMessagesOf(db: SqlClient, channelIds: readonly string[]): Promise<MessageSnapshot[][]> {
  const rows = await db.query<AuthoredMessageRow>(
    `select ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS}
       from message_pins p
       join messages m on m.id = p.message_id
       join users u on u.id = m.author_id
      where p.channel_id = any($1::uuid[])
      order by p.channel_id, p.pinned_at desc, p.message_id desc`,
    [channelIds],
    'pinned_messages',
  );
  const byChannel = new Map<string, MessageSnapshot[]>();
  for (const row of rows) {
    let messages = byChannel.get(row.channel_id);
    if (!messages) byChannel.set(row.channel_id, (messages = []));
    messages.push(authoredSnapshot(row));
  }
  return channelIds.map((id) => byChannel.get(id) ?? []);
}

/** Instance-wide loaders (shared/batch.ts): the lookups of every request and event rendering of one turn share one statement. */
export function pinLoaders(sql: SqlPool) {
  return {
    pinned: sql.batchLoader<string, boolean>('pins_among', (messageIds) => pinnedAmong(sql, messageIds)),
    pinnedMessages: sql.batchLoader<string, MessageSnapshot[]>('pinned_messages', (channelIds) => pinnedMessagesOf(sql, channelIds)),
  };
}
