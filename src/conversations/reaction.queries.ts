// Every SQL statement on message_reactions. Counts are never stored: a group's count is its
// number of rows, so concurrent adds and removes cannot drift (the primary key (message, user,
// emoji) keeps one row per user and emoji).
import type { SqlClient, SqlPool } from '../shared/sql';

/** A message's reactions with one emoji, as resolvers and events see them. */
export interface ReactionGroupSnapshot {
  messageId: string;
  emoji: string;
  count: number;
  /** The first users who reacted, oldest first, at most REACTION_GROUP_USERS. */
  userIds: string[];
}

/** Users a group lists (ReactionGroup.users). */
export const REACTION_GROUP_USERS = 10;

/** What a single-statement add or remove did: whether the message was live (not deleted) and whether a row changed. */
export interface ReactionWrite {
  live: boolean;
  changed: boolean;
}

/**
 * Adds the reaction unless it is there, in one statement. The message row is taken FOR KEY
 * SHARE (re-checked once a deletion holding it commits), so a reaction never lands on a message
 * deleted concurrently: the deletion's lock orders it before or after, and after means no row.
 */
export async function addReaction(db: SqlClient, messageId: string, userId: string, emoji: string): Promise<ReactionWrite> {
  const rows = await db.query<{ live: number; changed: number }>(
    `with live as (select m.id from messages m where m.id = $1 and m.deleted_at is null for key share),
          added as (insert into message_reactions (message_id, user_id, emoji) select live.id, $2, $3 from live on conflict do nothing returning 1)
     select (select count(*) from live)::int as live, (select count(*) from added)::int as changed`,
    [messageId, userId, emoji],
    'reaction_add',
  );
  return { live: rows[0].live > 0, changed: rows[0].changed > 0 };
}

/** Removes the reaction if it is there, in one statement (see addReaction for the lock). */
export async function removeReaction(db: SqlClient, messageId: string, userId: string, emoji: string): Promise<ReactionWrite> {
  const rows = await db.query<{ live: number; changed: number }>(
    `with live as (select m.id from messages m where m.id = $1 and m.deleted_at is null for key share),
          removed as (delete from message_reactions r using live where r.message_id = live.id and r.user_id = $2 and r.emoji = $3 returning 1)
     select (select count(*) from live)::int as live, (select count(*) from removed)::int as changed`,
    [messageId, userId, emoji],
    'reaction_remove',
  );
  return { live: rows[0].live > 0, changed: rows[0].changed > 0 };
}

/** Drops every reaction of a message (its deletion, in the deleting transaction). */
export async function deleteReactionsOf(tx: SqlClient, messageId: string): Promise<void> {
  await tx.query('delete from message_reactions where message_id = $1', [messageId]);
}

/**
 * The reaction groups of each message, in order of first use (the oldest reaction of the
 * group), each with its count and first users, in one statement for all the messages.
 */
export async function reactionGroups(db: SqlClient, messageIds: readonly string[]): Promise<ReactionGroupSnapshot[][]> {
  const rows = await db.query<{ message_id: string; emoji: string; count: number; user_ids: string[] }>(
    `select r.message_id, r.emoji, count(*)::int as count,
            (array_agg(r.user_id order by r.created_at, r.user_id))[1:$2] as user_ids
       from message_reactions r
      where r.message_id = any($1::uuid[])
      group by r.message_id, r.emoji
      order by r.message_id, min(r.created_at), r.emoji`,
    [messageIds, REACTION_GROUP_USERS],
    'reaction_groups',
  );
  const byMessage = new Map<string, ReactionGroupSnapshot[]>();
  for (const row of rows) {
    let groups = byMessage.get(row.message_id);
    if (!groups) byMessage.set(row.message_id, (groups = []));
    groups.push({ messageId: row.message_id, emoji: row.emoji, count: row.count, userIds: row.user_ids });
  }
  return messageIds.map((id) => byMessage.get(id) ?? []);
}

/** For each (user, message) pair: the emoji that user reacted with on that message, in one statement. */
export async function reactionsByUsers(db: SqlClient, pairs: ReadonlyArray<{ userId: string; messageId: string }>): Promise<string[][]> {
  const rows = await db.query<{ ord: string; emoji: string }>(
    `select k.ord, r.emoji
       from unnest($1::uuid[], $2::uuid[]) with ordinality as k(user_id, message_id, ord)
       join message_reactions r on r.message_id = k.message_id and r.user_id = k.user_id`,
    [pairs.map((pair) => pair.userId), pairs.map((pair) => pair.messageId)],
    'reactions_by_users',
  );
  const found: string[][] = pairs.map(() => []);
  for (const row of rows) found[Number(row.ord) - 1].push(row.emoji);
  return found;
}

/** Instance-wide loaders (shared/batch.ts): the lookups of every request and every event rendering in one turn share one statement. */
export function reactionLoaders(sql: SqlPool) {
  return {
    groups: sql.batchLoader<string, ReactionGroupSnapshot[]>('reaction_groups', (messageIds) => reactionGroups(sql, messageIds)),
    byUser: sql.batchLoader<string, string[]>('reactions_by_users', (keys) =>
      reactionsByUsers(
        sql,
        keys.map((key) => {
          const [userId, messageId] = key.split('|');
          return { userId, messageId };
        }),
      ),
    ),
  };
}
