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
  /**
   * Every user of the group when it has at most REACTED_BY_KNOWN_LIMIT, else null: then
   * `reactedByMe` is answered from it without a lookup per viewer (an event rendered for
   * thousands of subscribers reads the group once).
   */
  allUserIds: string[] | null;
}

/** Groups up to this size carry all their users (allUserIds). */
export const REACTED_BY_KNOWN_LIMIT = 200;

/** Users a group lists (ReactionGroup.users). */
export const REACTION_GROUP_USERS = 10;

/** One reaction change asked for: add or remove one user's emoji on one message. */
export interface ReactionChange {
  op: 'add' | 'remove';
  messageId: string;
  userId: string;
  emoji: string;
}

/** What a change did: whether the message was live (not deleted) and whether a row changed. */
export interface ReactionWrite {
  live: boolean;
  changed: boolean;
}

/**
 * Applies the changes of concurrent requests in one statement (one commit, one WAL flush for
 * all of them, as sends are group-committed). Adds skip existing rows and removes skip
 * missing ones, so each is idempotent. Messages are taken FOR KEY SHARE and re-checked once a
 * deletion holding them commits: a reaction never lands on a message deleted concurrently (the
 * deletion's lock orders it before or after, and after means the deletion drops the row).
 * An add and a remove of the same reaction in one batch read the same snapshot: the remove
 * sees no row when the add creates it (as if it came first), and removes it when it existed
 * (as if it came last); either order is one the clients could have seen.
 */
export async function applyReactionChanges(db: SqlClient, changes: readonly ReactionChange[]): Promise<ReactionWrite[]> {
  const rows = await db.query<{ live: boolean; changed: boolean }>(
    `with k as (
       select * from unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[]) with ordinality as k(op, message_id, user_id, emoji, ord)
     ), live as (
       select m.id from messages m where m.id = any($2::uuid[]) and m.deleted_at is null for key share
     ), added as (
       insert into message_reactions (message_id, user_id, emoji)
       select k.message_id, k.user_id, k.emoji from k join live on live.id = k.message_id
        where k.op = 'add' order by k.message_id, k.user_id, k.emoji
       on conflict do nothing
       returning message_id, user_id, emoji
     ), removed as (
       delete from message_reactions r using k join live on live.id = k.message_id
        where k.op = 'remove' and r.message_id = k.message_id and r.user_id = k.user_id and r.emoji = k.emoji
       returning r.message_id, r.user_id, r.emoji
     )
     select l.id is not null as live,
            case when k.op = 'add'
              then exists (select 1 from added a where a.message_id = k.message_id and a.user_id = k.user_id and a.emoji = k.emoji)
              else exists (select 1 from removed d where d.message_id = k.message_id and d.user_id = k.user_id and d.emoji = k.emoji)
            end as changed
       from k left join live l on l.id = k.message_id
      order by k.ord`,
    [changes.map((change) => change.op), changes.map((change) => change.messageId), changes.map((change) => change.userId), changes.map((change) => change.emoji)],
    'reaction_changes',
  );
  return rows.map((row) => ({ live: row.live, changed: row.changed }));
}

/** PostgreSQL's deadlock_detected: two batches touching the same reactions in another order (retried once). */
function isDeadlock(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '40P01';
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
    [messageIds, REACTED_BY_KNOWN_LIMIT + 1],
    'reaction_groups',
  );
  const byMessage = new Map<string, ReactionGroupSnapshot[]>();
  for (const row of rows) {
    let groups = byMessage.get(row.message_id);
    if (!groups) byMessage.set(row.message_id, (groups = []));
    const known = row.user_ids.length <= REACTED_BY_KNOWN_LIMIT;
    groups.push({ messageId: row.message_id, emoji: row.emoji, count: row.count, userIds: row.user_ids.slice(0, REACTION_GROUP_USERS), allUserIds: known ? row.user_ids : null });
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
    // Keyed `op|message|user|emoji` (neither a uuid nor an emoji holds a '|').
    writes: sql.batchLoader<string, ReactionWrite>('reaction_changes', async (keys) => {
      const changes = keys.map((key): ReactionChange => {
        const [op, messageId, userId, emoji] = key.split('|');
        return { op: op as ReactionChange['op'], messageId, userId, emoji };
      });
      try {
        return await applyReactionChanges(sql, changes);
      } catch (error) {
        if (!isDeadlock(error)) throw error;
        return applyReactionChanges(sql, changes);
      }
    }),
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
