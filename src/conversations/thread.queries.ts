// Every SQL statement on the thread tables (threads, thread_participants, thread_follows).
// Replies themselves are messages (messages.thread_root_id); send_messages in the migrations
// keeps these tables in the transaction of every reply.
import { AUTHOR_COLUMNS, type AuthoredMessageRow, authoredSnapshot, MESSAGE_COLUMNS } from '../messages/message.queries';
import type { MessageSnapshot } from '../domain/snapshots';
import type { SqlClient } from '../shared/sql';

/** A thread's summary as stored (threads row). */
export interface ThreadSummary {
  rootId: string;
  channelId: string;
  replyCount: number;
  lastReplyAt: Date | null;
}

interface ThreadRow {
  root_id: string;
  channel_id: string;
  reply_count: number;
  last_reply_at: Date | null;
}

function threadSummary(row: ThreadRow): ThreadSummary {
  return { rootId: row.root_id, channelId: row.channel_id, replyCount: Number(row.reply_count), lastReplyAt: row.last_reply_at };
}

const THREAD_COLUMNS = 't.root_id, t.channel_id, t.reply_count, t.last_reply_at';

/** The summaries of these roots' threads (roots without a thread are missing). */
export async function threadSummaries(db: SqlClient, rootIds: readonly string[]): Promise<ThreadSummary[]> {
  const rows = await db.query<ThreadRow>(`select ${THREAD_COLUMNS} from threads t where t.root_id = any($1::uuid[])`, [rootIds], 'thread_summaries');
  return rows.map(threadSummary);
}

/** Up to `limit` repliers per thread, the one with the newest reply first. */
export async function threadParticipants(db: SqlClient, rootIds: readonly string[], limit: number): Promise<Array<{ rootId: string; userId: string }>> {
  const rows = await db.query<{ root_id: string; user_id: string }>(
    `select r.id as root_id, p.user_id
       from unnest($1::uuid[]) as r(id)
       cross join lateral (
         select p.user_id from thread_participants p where p.root_id = r.id order by p.last_reply_seq desc limit $2
       ) p`,
    [rootIds, limit],
    'thread_participants',
  );
  return rows.map((row) => ({ rootId: row.root_id, userId: row.user_id }));
}

/**
 * The viewer's relation to these threads: whether they follow each, and its replies by others
 * after their read marker (every such reply when they have none), deleted ones not counted.
 */
export async function viewerThreadStates(db: SqlClient, userId: string, rootIds: readonly string[]): Promise<Array<{ rootId: string; following: boolean; unread: number }>> {
  const rows = await db.query<{ root_id: string; following: boolean | null; unread: string }>(
    `select r.id as root_id, f.following,
            (select count(*) from messages m
              where m.thread_root_id = r.id and m.seq > coalesce(f.read_seq, 0) and m.author_id <> $1 and m.deleted_at is null) as unread
       from unnest($2::uuid[]) as r(id)
       left join thread_follows f on f.user_id = $1 and f.root_id = r.id`,
    [userId, rootIds],
    'thread_viewer_states',
  );
  return rows.map((row) => ({ rootId: row.root_id, following: row.following === true, unread: Number(row.unread) }));
}

/** Gives a root its thread (no replies yet) unless it has one; true when it was created. */
export async function createThread(tx: SqlClient, rootId: string, channelId: string): Promise<boolean> {
  const rows = await tx.query('insert into threads (root_id, channel_id) values ($1, $2) on conflict (root_id) do nothing returning root_id', [rootId, channelId]);
  return rows.length > 0;
}

/** These users follow the thread (keeping their read markers). */
export async function addFollowers(db: SqlClient, rootId: string, userIds: readonly string[]): Promise<void> {
  await db.query(
    `insert into thread_follows (user_id, root_id, following)
       select u, $1, true from unnest($2::uuid[]) as u
     on conflict (user_id, root_id) do update set following = true`,
    [rootId, userIds],
  );
}

/** The user stops following the thread (their read marker stays). */
export async function removeFollower(db: SqlClient, rootId: string, userId: string): Promise<void> {
  await db.query(
    `insert into thread_follows (user_id, root_id, following) values ($2, $1, false)
     on conflict (user_id, root_id) do update set following = false`,
    [rootId, userId],
  );
}

/** Moves the user's read marker to the thread's newest reply (never back); nothing when there is no thread. */
export async function markThreadRead(db: SqlClient, rootId: string, userId: string): Promise<void> {
  await db.query(
    `insert into thread_follows (user_id, root_id, following, read_seq)
       select $2, t.root_id, false, t.last_reply_seq from threads t where t.root_id = $1
     on conflict (user_id, root_id) do update set read_seq = greatest(thread_follows.read_seq, excluded.read_seq)`,
    [rootId, userId],
  );
}

/** A thread the user follows, with its root and the root's author, and the position of myThreads' order. */
export interface FollowedThread {
  summary: ThreadSummary;
  root: MessageSnapshot;
  /** activity_at in microseconds since the epoch (exact: PostgreSQL keeps microseconds). */
  activityMicros: string;
}

/**
 * Threads the user follows in channels they may read, the one with the newest activity (its
 * newest reply, or when it got its first follower) first, then by root id; after the given
 * position when one is given.
 */
export async function followedThreads(db: SqlClient, userId: string, after: { micros: string; rootId: string } | null, limit: number): Promise<FollowedThread[]> {
  const values: unknown[] = [userId, limit];
  const keyset = after
    ? `and (t.activity_at, t.root_id) < ('epoch'::timestamptz + $${values.push(after.micros)}::bigint * interval '1 microsecond', $${values.push(after.rootId)}::uuid)`
    : '';
  const rows = await db.query<ThreadRow & AuthoredMessageRow & { activity_micros: string }>(
    `select ${THREAD_COLUMNS}, (extract(epoch from t.activity_at) * 1000000)::bigint::text as activity_micros, ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS}
       from thread_follows f
       join threads t on t.root_id = f.root_id
       join channels c on c.id = t.channel_id
       left join memberships mb on mb.channel_id = t.channel_id and mb.user_id = f.user_id
       join messages m on m.id = t.root_id
       join users u on u.id = m.author_id
      where f.user_id = $1 and f.following and (c.kind = 'PUBLIC' or mb.user_id is not null) ${keyset}
      order by t.activity_at desc, t.root_id desc
      limit $2`,
    values,
    after ? 'followed_threads_after' : 'followed_threads',
  );
  return rows.map((row) => ({ summary: threadSummary(row), root: authoredSnapshot(row), activityMicros: row.activity_micros }));
}
