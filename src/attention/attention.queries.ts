// Every SQL statement of the attention tables: message_mentions, message_channel_mentions,
// notifications, notification_levels, and the read receipts (memberships.last_read_at,
// users.share_read_receipts).
import { type UserRow, userRowSnapshot } from '../accounts/account.queries';
import type { MessageSnapshot, NotificationKindName, NotificationSnapshot, UserSnapshot } from '../domain/snapshots';
import { AUTHOR_COLUMNS, type AuthoredMessageRow, authoredSnapshot, MESSAGE_COLUMNS } from '../messages/message.queries';
import type { SqlClient } from '../shared/sql';
import type { NotificationLevel } from './attention.entity';

const USER_COLUMNS = 'u.id, u.username, u.display_name, u.bio, u.email, u.created_at';

// ---- mentions ----

export interface MentionRows {
  /** One row per candidate username of a named mention: (message, key, ord, preference). */
  named: { messageIds: string[]; keys: string[]; ords: number[]; preferences: number[] };
  /** `@here` recipients: (message, user). */
  here: { messageIds: string[]; userIds: string[] };
  /** Messages that say `@channel`. */
  channel: string[];
}

/**
 * Stores the mentions of new or edited messages: each named mention resolves to the existing
 * user of its most preferred candidate key (case-insensitively, usernames are unique by key),
 * first mention first; `@here` recipients are stored with no ord unless also named.
 */
export async function storeMentions(tx: SqlClient, rows: MentionRows): Promise<void> {
  await tx.query(
    `with named as (
       select distinct on (k.message_id, k.ord) k.message_id, u.id as user_id, k.ord
         from unnest($1::uuid[], $2::text[], $3::int[], $4::int[]) as k(message_id, key, ord, pref)
         join users u on u.username_key = k.key
        order by k.message_id, k.ord, k.pref
     ), firsts as (
       select message_id, user_id, min(ord) as ord from named group by message_id, user_id
     ), here as (
       select h.message_id, h.user_id from unnest($5::uuid[], $6::uuid[]) as h(message_id, user_id)
        where not exists (select 1 from firsts f where f.message_id = h.message_id and f.user_id = h.user_id)
     ), everyone as (
       insert into message_channel_mentions (message_id) select unnest($7::uuid[]) on conflict do nothing
     )
     insert into message_mentions (message_id, user_id, ord)
     select message_id, user_id, ord from firsts
     union all
     select message_id, user_id, null from here
     on conflict do nothing`,
    [rows.named.messageIds, rows.named.keys, rows.named.ords, rows.named.preferences, rows.here.messageIds, rows.here.userIds, rows.channel],
    'store_mentions',
  );
}

/** Users a thread reply names (and who can read its channel) follow the thread, unless they chose not to. */
export async function followMentionedThreads(tx: SqlClient, messageIds: readonly string[]): Promise<void> {
  await tx.query(
    `insert into thread_follows (user_id, root_id)
     select mm.user_id, m.thread_root_id
       from message_mentions mm
       join messages m on m.id = mm.message_id
       join channels c on c.id = m.channel_id
      where mm.message_id = any($1::uuid[]) and mm.ord is not null and m.thread_root_id is not null and mm.user_id <> m.author_id
        and (c.kind = 'PUBLIC' or exists (select 1 from memberships mb where mb.channel_id = m.channel_id and mb.user_id = mm.user_id))
     on conflict (user_id, root_id) do nothing`,
    [messageIds],
    'follow_mentioned_threads',
  );
}

/** Who a message mentioned before an edit: by name, by @here, and every member when it said @channel. */
export async function mentionedUserIds(tx: SqlClient, messageId: string, channelId: string): Promise<string[]> {
  const rows = await tx.query<{ user_id: string }>(
    `select user_id from message_mentions where message_id = $1
     union
     select mb.user_id from message_channel_mentions cm join memberships mb on mb.channel_id = $2 where cm.message_id = $1`,
    [messageId, channelId],
  );
  return rows.map((row) => row.user_id);
}

/** Forgets a message's mentions (before an edit stores the new ones, and on deletion). */
export async function deleteMentions(tx: SqlClient, messageId: string): Promise<void> {
  await tx.query(
    'with everyone as (delete from message_channel_mentions where message_id = $1) delete from message_mentions where message_id = $1',
    [messageId],
  );
}

/** Users mentioned by @username who can read the message's channel, per message, in order of first mention. */
export async function mentionsOf(db: SqlClient, messageIds: readonly string[]): Promise<Map<string, UserSnapshot[]>> {
  const rows = await db.query<UserRow & { message_id: string }>(
    `select mm.message_id, ${USER_COLUMNS}
       from message_mentions mm
       join messages m on m.id = mm.message_id
       join channels c on c.id = m.channel_id
       join users u on u.id = mm.user_id
      where mm.message_id = any($1::uuid[]) and mm.ord is not null
        and (c.kind = 'PUBLIC' or exists (select 1 from memberships mb where mb.channel_id = m.channel_id and mb.user_id = mm.user_id))
      order by mm.message_id, mm.ord`,
    [messageIds],
    'mentions_of',
  );
  const byMessage = new Map<string, UserSnapshot[]>();
  for (const row of rows) {
    const list = byMessage.get(row.message_id) ?? [];
    list.push(userRowSnapshot(row));
    byMessage.set(row.message_id, list);
  }
  return byMessage;
}

/** The messages among these that mention the user by name, by @here, or by @channel. */
export async function messagesMentioning(db: SqlClient, userId: string, messageIds: readonly string[]): Promise<Set<string>> {
  const rows = await db.query<{ message_id: string }>(
    `select message_id from message_mentions where user_id = $1 and message_id = any($2::uuid[])
     union
     select message_id from message_channel_mentions where message_id = any($2::uuid[])`,
    [userId, messageIds],
    'messages_mentioning',
  );
  return new Set(rows.map((row) => row.message_id));
}

// ---- notifications ----

export interface CreatedNotificationRow {
  id: string;
  user_id: string;
  message_id: string;
  kind: NotificationKindName;
  created_at: Date;
}

/** A user's level for a channel: the stored one, else ALL for DIRECT and MENTIONS otherwise (SQL over `ch.kind`, `nl.level`). */
const LEVEL = `coalesce(nl.level, case when ch.kind = 'DIRECT' then 'ALL' else 'MENTIONS' end)`;

/**
 * The notifications of a batch of new messages of one channel, as common table expressions:
 * `created` names a relation of the messages (message_id, author_id, thread_root_id), `channel`
 * the channel id's placeholder; the last one, `notified`, inserts them and returns each as
 * NotifiedRow (json-ready: times in epoch milliseconds). Candidates: users mentioned (by name
 * or @here, stored by storeMentions before) and, for @channel, every member (MENTION); the
 * followers of the thread a reply is in (THREAD_REPLY); members whose level is ALL (MESSAGE).
 * Each (user, message) keeps its highest kind. Kept only for users who can read the channel
 * (members, or anyone for PUBLIC), never the author, not at level NONE, MESSAGE only at level
 * ALL, and never from an author the user blocked.
 *
 * The @channel members are read in a lateral subquery per message that mentions the channel
 * (OFFSET 0 keeps the planner from flattening it): joined plainly, a plan made while
 * message_channel_mentions had no statistics (autovacuum never analyzes a table that stays
 * this small) read every member of the channel on every send, mention or not.
 */
export function sendNotificationsCtes(created: string, channel: string): string {
  return `notify_ch as (
       select kind from channels where id = ${channel}
     ), notify_candidates as (
       select s.message_id, s.author_id, mm.user_id, 1 as rank from ${created} s join message_mentions mm on mm.message_id = s.message_id
       union all
       select s.message_id, s.author_id, mb.user_id, 1
         from ${created} s join message_channel_mentions cm on cm.message_id = s.message_id
         cross join lateral (select mb.user_id from memberships mb where mb.channel_id = ${channel} and cm.message_id is not null offset 0) mb
       union all
       select s.message_id, s.author_id, tf.user_id, 2
         from ${created} s join thread_follows tf on tf.root_id = s.thread_root_id and tf.following
       union all
       select s.message_id, s.author_id, nl.user_id, 3 from ${created} s cross join notification_levels nl where nl.channel_id = ${channel} and nl.level = 'ALL'
       union all
       select s.message_id, s.author_id, mb.user_id, 3 from ${created} s join memberships mb on mb.channel_id = ${channel}
        where (select kind from channels where id = ${channel}) = 'DIRECT'
     ), notify_best as (
       select message_id, author_id, user_id, min(rank) as rank from notify_candidates where user_id <> author_id group by message_id, author_id, user_id
     ), notified as (
       insert into notifications (id, user_id, message_id, channel_id, kind)
       select gen_random_uuid(), b.user_id, b.message_id, ${channel}, case b.rank when 1 then 'MENTION' when 2 then 'THREAD_REPLY' else 'MESSAGE' end
         from notify_best b
         cross join notify_ch ch
         left join memberships mb on mb.channel_id = ${channel} and mb.user_id = b.user_id
         left join notification_levels nl on nl.channel_id = ${channel} and nl.user_id = b.user_id
        where (ch.kind = 'PUBLIC' or mb.user_id is not null)
          and ${LEVEL} <> 'NONE'
          and (b.rank < 3 or (${LEVEL} = 'ALL' and mb.user_id is not null))
          and not exists (select 1 from user_blocks ub where ub.blocker_id = b.user_id and ub.blocked_id = b.author_id)
       on conflict (message_id, user_id) do nothing
       returning id, user_id, message_id, kind, floor(extract(epoch from created_at) * 1000)::bigint as created_ms
     )`;
}

/** A notification `notified` (sendNotificationsCtes) created. */
export interface NotifiedRow {
  id: string;
  user_id: string;
  message_id: string;
  kind: NotificationKindName;
  created_ms: number | string;
}

export function notifiedRow(row: NotifiedRow): CreatedNotificationRow {
  return { id: row.id, user_id: row.user_id, message_id: row.message_id, kind: row.kind, created_at: new Date(Number(row.created_ms)) };
}

/**
 * The notifications of a batch of new messages of one channel, in the transaction that
 * stored them (after their mentions: see sendNotificationsCtes).
 */
export async function insertSendNotifications(
  tx: SqlClient,
  channelId: string,
  messages: ReadonlyArray<{ id: string; authorId: string; threadRootId: string | null }>,
): Promise<CreatedNotificationRow[]> {
  const rows = await tx.query<NotifiedRow>(
    `with sent as (
       select * from unnest($2::uuid[], $3::uuid[], $4::uuid[]) as s(message_id, author_id, thread_root_id)
     ), ${sendNotificationsCtes('sent', '$1')}
     select * from notified`,
    [channelId, messages.map((one) => one.id), messages.map((one) => one.authorId), messages.map((one) => one.threadRootId)],
    'insert_send_notifications',
  );
  return rows.map(notifiedRow);
}

/**
 * After an edit: MENTION notifications for the users the message mentions now and did not
 * before (`before`). A notification of a lower kind (MESSAGE) becomes an unread MENTION.
 */
export function insertEditNotifications(tx: SqlClient, message: { id: string; channelId: string; authorId: string }, before: readonly string[]): Promise<CreatedNotificationRow[]> {
  return tx.query<CreatedNotificationRow>(
    `with ch as (
       select kind from channels where id = $2
     ), candidates as (
       select mm.user_id from message_mentions mm where mm.message_id = $1
       union
       select mb.user_id from message_channel_mentions cm join memberships mb on mb.channel_id = $2 where cm.message_id = $1
     )
     insert into notifications as n (id, user_id, message_id, channel_id, kind)
     select gen_random_uuid(), c.user_id, $1, $2, 'MENTION'
       from candidates c
       cross join ch
       left join memberships mb on mb.channel_id = $2 and mb.user_id = c.user_id
       left join notification_levels nl on nl.channel_id = $2 and nl.user_id = c.user_id
      where c.user_id <> $3 and not (c.user_id = any($4::uuid[]))
        and (ch.kind = 'PUBLIC' or mb.user_id is not null)
        and ${LEVEL} <> 'NONE'
        and not exists (select 1 from user_blocks ub where ub.blocker_id = c.user_id and ub.blocked_id = $3)
     on conflict (message_id, user_id) do update set kind = 'MENTION', read_at = null, created_at = now() where n.kind <> 'MENTION'
     returning id, user_id, message_id, kind, created_at`,
    [message.id, message.channelId, message.authorId, before],
    'insert_edit_notifications',
  );
}

/** A deleted message's notifications disappear. */
export async function deleteMessageNotifications(tx: SqlClient, messageId: string): Promise<void> {
  await tx.query('delete from notifications where message_id = $1', [messageId]);
}

/** A membership ended: the user's level for the channel goes, and, where they can no longer read it, its notifications. */
export async function forgetMembership(tx: SqlClient, channelId: string, userId: string, canStillRead: boolean): Promise<void> {
  await tx.query('delete from notification_levels where channel_id = $1 and user_id = $2', [channelId, userId]);
  if (!canStillRead) await tx.query('delete from notifications where user_id = $1 and channel_id = $2', [userId, channelId]);
}

interface NotificationRow extends AuthoredMessageRow {
  n_id: string;
  n_user_id: string;
  n_kind: NotificationKindName;
  n_created_at: Date;
  /** created_at as PostgreSQL prints it: exact (microseconds) for the cursor. */
  n_created_key: string;
  n_read_at: Date | null;
}

export interface NotificationWithKey {
  notification: NotificationSnapshot;
  key: { createdAt: string; id: string };
}

/** A page of a user's notifications, newest first, after the keyset position `after`. */
export async function notificationPage(
  db: SqlClient,
  userId: string,
  { unreadOnly, after, limit }: { unreadOnly: boolean; after: { createdAt: string; id: string } | null; limit: number },
): Promise<NotificationWithKey[]> {
  const conditions = ['n.user_id = $1'];
  const values: unknown[] = [userId];
  if (unreadOnly) conditions.push('n.read_at is null');
  if (after) conditions.push(`(n.created_at, n.id) < ($${values.push(after.createdAt)}::timestamptz, $${values.push(after.id)}::uuid)`);
  const rows = await db.query<NotificationRow>(
    `select n.id as n_id, n.user_id as n_user_id, n.kind as n_kind, n.created_at as n_created_at, n.created_at::text as n_created_key, n.read_at as n_read_at,
            ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS}
       from (select * from notifications n where ${conditions.join(' and ')} order by n.created_at desc, n.id desc limit $${values.push(limit)}) n
       join messages m on m.id = n.message_id
       join users u on u.id = m.author_id
      order by n.created_at desc, n.id desc`,
    values,
    `notification_page${unreadOnly ? '_unread' : ''}${after ? '_after' : ''}`,
  );
  return rows.map((row) => ({
    notification: { id: row.n_id, userId: row.n_user_id, kind: row.n_kind, message: authoredSnapshot(row), createdAt: row.n_created_at, read: row.n_read_at !== null },
    key: { createdAt: row.n_created_key, id: row.n_id },
  }));
}

/** From notification_counts, which triggers on notifications keep exact (migration 20261202160000). */
export async function unreadNotificationCount(db: SqlClient, userId: string): Promise<number> {
  const rows = await db.query<{ unread: number }>('select unread from notification_counts where user_id = $1', [userId], 'unread_notification_count');
  return rows[0]?.unread ?? 0;
}

/**
 * Marks the user's unread notifications among `ids` read, all or nothing: when one of the ids
 * is not theirs (someone else's or none at all), nothing changes and `found` says so.
 */
export async function markNotificationsRead(db: SqlClient, userId: string, ids: readonly string[]): Promise<{ found: number; changed: number }> {
  const rows = await db.query<{ found: string; changed: string }>(
    `with mine as (
       select id, read_at from notifications where user_id = $1 and id = any($2::uuid[])
     ), changed as (
       update notifications n set read_at = now() from mine
        where n.id = mine.id and mine.read_at is null and (select count(*) from mine) = $3
       returning n.id
     )
     select (select count(*) from mine) as found, (select count(*) from changed) as changed`,
    [userId, ids, ids.length],
    'mark_notifications_read',
  );
  return { found: Number(rows[0].found), changed: Number(rows[0].changed) };
}

/** Marks every unread notification of the user read; how many changed. */
export async function markAllNotificationsRead(db: SqlClient, userId: string): Promise<number> {
  const rows = await db.query('update notifications set read_at = now() where user_id = $1 and read_at is null returning 1', [userId]);
  return rows.length;
}

// ---- levels ----

export async function storedLevels(db: SqlClient, userId: string, channelIds: readonly string[]): Promise<Map<string, NotificationLevel>> {
  const rows = await db.query<{ channel_id: string; level: NotificationLevel }>(
    'select channel_id, level from notification_levels where user_id = $1 and channel_id = any($2::uuid[])',
    [userId, channelIds],
    'notification_levels_of',
  );
  return new Map(rows.map((row) => [row.channel_id, row.level]));
}

export async function storeLevel(db: SqlClient, userId: string, channelId: string, level: NotificationLevel): Promise<void> {
  await db.query(
    'insert into notification_levels (channel_id, user_id, level) values ($1, $2, $3) on conflict (channel_id, user_id) do update set level = excluded.level',
    [channelId, userId, level],
  );
}

// ---- @here ----

export async function memberIds(db: SqlClient, channelId: string): Promise<string[]> {
  const rows = await db.query<{ user_id: string }>('select user_id from memberships where channel_id = $1', [channelId], 'attention_member_ids');
  return rows.map((row) => row.user_id);
}

// ---- read receipts ----

export interface ReaderRow extends UserRow {
  read_key: string;
}

/**
 * Members other than the author whose read marker is at or past `seq` and who share read
 * receipts, the most recent marker move first (then by id), after the keyset position.
 */
export async function readersOf(
  db: SqlClient,
  message: { channelId: string; seq: number; authorId: string },
  after: { readAt: string; userId: string } | null,
  limit: number,
): Promise<Array<{ user: UserSnapshot; key: { readAt: string; userId: string } }>> {
  const values: unknown[] = [message.channelId, message.seq, message.authorId];
  const afterCondition = after
    ? `and (coalesce(mb.last_read_at, '-infinity'), mb.user_id) < ($${values.push(after.readAt)}::timestamptz, $${values.push(after.userId)}::uuid)`
    : '';
  const rows = await db.query<ReaderRow>(
    `select ${USER_COLUMNS}, coalesce(mb.last_read_at, '-infinity')::text as read_key
       from memberships mb join users u on u.id = mb.user_id
      where mb.channel_id = $1 and mb.last_read_seq >= $2 and mb.user_id <> $3 and u.share_read_receipts ${afterCondition}
      order by coalesce(mb.last_read_at, '-infinity') desc, mb.user_id desc
      limit $${values.push(limit)}`,
    values,
    `readers_of${after ? '_after' : ''}`,
  );
  return rows.map((row) => ({ user: userRowSnapshot(row), key: { readAt: row.read_key, userId: row.id } }));
}

/** What a MessagesSeen event needs: the reader (when they share receipts) and the message at their marker. */
export async function seenEventParts(db: SqlClient, userId: string, channelId: string, seq: number): Promise<{ user: UserSnapshot; message: MessageSnapshot } | null> {
  const rows = await db.query<AuthoredMessageRow & { reader: UserRow }>(
    `select ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS}, json_build_object('id', r.id, 'username', r.username, 'display_name', r.display_name, 'bio', r.bio, 'created_at', r.created_at) as reader
       from users r
       join messages m on m.channel_id = $2 and m.seq = $3
       join users u on u.id = m.author_id
      where r.id = $1 and r.share_read_receipts`,
    [userId, channelId, seq],
    'seen_event_parts',
  );
  const row = rows[0];
  if (!row) return null;
  const reader = row.reader;
  return {
    user: { id: reader.id, username: reader.username, displayName: reader.display_name, bio: reader.bio, email: null, createdAt: new Date(reader.created_at) },
    message: authoredSnapshot(row),
  };
}

/** The user's own read-receipt setting. */
export async function sharesReadReceipts(db: SqlClient, userIds: readonly string[]): Promise<Map<string, boolean>> {
  const rows = await db.query<{ id: string; share_read_receipts: boolean }>('select id, share_read_receipts from users where id = any($1::uuid[])', [userIds]);
  return new Map(rows.map((row) => [row.id, row.share_read_receipts]));
}
