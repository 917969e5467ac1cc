// Every SQL statement on the messages tables: messages, votes (and the send_messages function
// of the migrations), with the conversion of their rows to the snapshots resolvers and events use.
import type { MessageSnapshot, UserSnapshot } from '../domain/snapshots';
import { type ChannelWithMembershipRow, channelForViewerSubquery } from '../channels/channel.queries';
import type { SqlClient, SqlPool } from '../shared/sql';
import type { SessionLiveness, SessionState } from '../shared/context';
import { sessionCheckCtes, type SessionStateColumns, sessionStateOf, sessionStateSubquery } from '../accounts/account.queries';

export interface MessageRow {
  id: string;
  channel_id: string;
  seq: string | number;
  author_id: string;
  body: string | null;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
  upvotes: number;
  downvotes: number;
  thread_root_id: string | null;
  /** Absent from send_messages rows (a new message is version 0). */
  version?: number;
}

/** The columns every message query selects, qualified with the alias `m`. */
export const MESSAGE_COLUMNS = 'm.id, m.channel_id, m.seq, m.author_id, m.body, m.created_at, m.edited_at, m.deleted_at, m.upvotes, m.downvotes, m.thread_root_id, m.version';

/** A message row joined with its author (`join users u on u.id = m.author_id`). */
export interface AuthoredMessageRow extends MessageRow {
  author_username: string;
  author_display_name: string;
  author_bio: string | null;
  author_created_at: Date;
}

/** The author columns of an AuthoredMessageRow. */
export const AUTHOR_COLUMNS = 'u.username as author_username, u.display_name as author_display_name, u.bio as author_bio, u.created_at as author_created_at';

/** The author of an AuthoredMessageRow, as events carry it (no email). */
export function rowAuthor(row: AuthoredMessageRow): UserSnapshot {
  return { id: row.author_id, username: row.author_username, displayName: row.author_display_name, bio: row.author_bio, email: null, createdAt: row.author_created_at };
}

export function messageRowSnapshot(row: MessageRow, author?: UserSnapshot): MessageSnapshot {
  const deleted = row.deleted_at !== null;
  return {
    id: row.id,
    channelId: row.channel_id,
    seq: Number(row.seq),
    authorId: row.author_id,
    author,
    body: deleted ? null : row.body,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    deleted,
    upvotes: row.upvotes,
    downvotes: row.downvotes,
    threadRootId: row.thread_root_id,
    version: row.version ?? 0,
  };
}

/** A copy of the message with its author (cached snapshots are shared, never changed). */
export function withAuthor(message: MessageSnapshot, author: UserSnapshot | undefined): MessageSnapshot {
  return {
    id: message.id,
    channelId: message.channelId,
    seq: message.seq,
    authorId: message.authorId,
    author,
    body: message.body,
    createdAt: message.createdAt,
    editedAt: message.editedAt,
    deleted: message.deleted,
    upvotes: message.upvotes,
    downvotes: message.downvotes,
    // Windows cached before threads existed carry no field.
    threadRootId: message.threadRootId ?? null,
    version: message.version,
  };
}

/** A message with its author (events carry no email), from an AuthoredMessageRow. */
export function authoredSnapshot(row: AuthoredMessageRow): MessageSnapshot {
  return messageRowSnapshot(row, rowAuthor(row));
}

// ---- sends ----

export interface SendRow extends AuthoredMessageRow {
  /**
   * 'thread_gone': the reply's root is no longer a live top-level message of the channel (deleted meanwhile).
   * 'signed_out': the session the send carried the check of is no longer live (sessionCheckCtes).
   */
  status: 'created' | 'repeat' | 'not_member' | 'invisible' | 'no_channel' | 'muted' | 'blocked' | 'slow' | 'thread_gone' | 'signed_out';
  /** Seconds until slow mode lets the sender send again (status 'slow'). */
  retry_after: number | null;
}

/** What send_messages takes about a batch of sends: the channel, then one array per field. */
type BatchedSend = { id: string; authorId: string; body: string; clientMessageId: string | null; threadRootId: string | null };

/**
 * The sessions a batch's statement checks before it stores anything (PendingSessionCheck): one
 * per send, null where the send carries no check, and how liveness is judged.
 */
export interface BatchSessionChecks {
  sessionIds: ReadonlyArray<string | null>;
  liveness: SessionLiveness;
}

/**
 * The statement's start (its session check's CTEs, when it carries one), the send_messages
 * call, its parameters and a name part: without checks, the call of every earlier version.
 */
function sendStatement(channelId: string, sends: readonly BatchedSend[], checks: BatchSessionChecks | null): { ctes: string; call: string; params: unknown[]; name: string } {
  const params: unknown[] = [
    channelId,
    sends.map((one) => one.id),
    sends.map((one) => one.authorId),
    sends.map((one) => one.body),
    sends.map((one) => one.clientMessageId),
    sends.map((one) => one.threadRootId),
  ];
  if (!checks) return { ctes: '', call: 'send_messages($1, $2, $3, $4, $5, $6)', params, name: 'send_messages' };
  params.push(checks.sessionIds, checks.liveness.idleSeconds, checks.liveness.touchAfterSeconds);
  return {
    ctes: sessionCheckCtes('$7', '$8::float8', '$9::float8'),
    call: 'send_messages($1, $2, $3, $4, $5, $6, (select array_agg(signed_out order by ord) from session_check))',
    params,
    name: 'send_messages_checked',
  };
}

/** One batch of sends to a channel, in one statement (send_messages in the migrations). */
export function sendMessages(db: SqlClient, channelId: string, sends: readonly BatchedSend[], checks: BatchSessionChecks | null = null): Promise<SendRow[]> {
  const { ctes, call, params, name } = sendStatement(channelId, sends, checks);
  return db.query<SendRow>(ctes ? `with ${ctes} select * from ${call}` : `select * from ${call}`, params, name);
}

/**
 * A batch of sends and a hook's writes over its new messages (SendStatementPart) in one
 * statement: send_messages runs once (a CTE referenced twice is computed once), the part's
 * data-modifying CTE always runs to completion, and its rows come back on the first row.
 */
export async function sendMessagesWith(
  db: SqlClient,
  channelId: string,
  sends: readonly BatchedSend[],
  part: { name: string; ctes(created: string, channel: string): string },
  checks: BatchSessionChecks | null = null,
): Promise<{ rows: SendRow[]; partRows: unknown[] }> {
  const { ctes, call, params, name } = sendStatement(channelId, sends, checks);
  const rows = await db.query<SendRow & { part_rows: unknown[] | null }>(
    `with ${ctes ? `${ctes}, ` : ''}sent as (
       select * from ${call} with ordinality
     ), created as (
       select id as message_id, author_id, thread_root_id from sent where status = 'created'
     ), ${part.ctes('created', '$1')}
     select sent.*, case when sent.ordinality = 1 then (select json_agg(notified) from notified) end as part_rows
       from sent order by sent.ordinality`,
    params,
    name === 'send_messages' ? part.name : `${part.name}_checked`,
  );
  return { rows, partRows: rows[0]?.part_rows ?? [] };
}

// ---- history ----

/** The newest `limit` messages of a channel, newest first, without authors (for the recent cache). */
export async function newestMessages(db: SqlClient, channelId: string, limit: number): Promise<MessageSnapshot[]> {
  const rows = await db.query<MessageRow>(
    // Replies included: the cached window is a contiguous run of seqs (history skips the replies in it).
    `select ${MESSAGE_COLUMNS} from messages m where m.channel_id = $1 order by m.seq desc limit $2`,
    [channelId, limit],
    'messages_newest',
  );
  return rows.map((row) => messageRowSnapshot(row));
}

/** Which messages a keyset page walks: a channel's messages that are not replies, or a thread's replies. */
export type MessageList = { channelId: string } | { threadRootId: string };

/** The condition on `alias` selecting the list's messages of key `k` (each walks its own partial index). */
function listCondition(kind: 'channel' | 'thread', alias: string): string {
  return kind === 'channel' ? `${alias}.channel_id = k.list_id and ${alias}.thread_root_id is null` : `${alias}.thread_root_id = k.list_id`;
}

/** One page of a list, as messagePage answers it. */
export interface ListPage {
  messages: MessageSnapshot[];
  beyondStart: boolean;
}

/**
 * A keyset page of a list of messages (without authors: the caller has them from the
 * profiles it holds, see UserDirectory), in `order` of seq, between the
 * exclusive bounds, and whether the list holds a message on the far side of the page's
 * starting cursor (seq <= after going forward, seq >= before going back): pageInfo stays
 * exact although the list's seqs have gaps (replies and top-level messages share one
 * sequence). The pages that concurrent requests ask for in one turn of the event loop are one
 * statement (a lateral keyset scan per page; the same page asked twice is read once), one
 * prepared statement per list kind and order, planned once per connection (SqlPool.plannedOnce).
 */
export function messagePage(db: SqlPool, list: MessageList, bounds: PageBounds): Promise<ListPage> {
  const [kind, listId] = 'channelId' in list ? (['channel', list.channelId] as const) : (['thread', list.threadRootId] as const);
  const pages = db.batchLoader<string, ListPage>(`messages_page_${kind}_${bounds.order}`, (keys) => messagePages(db.plannedOnce, kind, bounds.order, keys, false));
  return pages.load(pageKey(listId, bounds));
}

/** A channel's page with the viewer's access to the channel (VisibleListPage). */
export interface VisibleListPage extends ListPage {
  /** The channel with the viewer's membership, or null when it does not exist. */
  channel: ChannelWithMembershipRow | null;
  /** The session read along (visibleChannelPage's `sessionId`), or null. */
  session: SessionState | null;
}

/**
 * A channel's keyset page (as messagePage) and the viewer's access to the channel in the same
 * statement: one round trip instead of two. The page is read whatever the access; the caller
 * drops it unread when the viewer may not see the channel (access.ts decides who may).
 * `sessionId`: the request's session, read along for its pending check (PendingSessionCheck).
 */
export function visibleChannelPage(db: SqlPool, viewerId: string, channelId: string, bounds: PageBounds, sessionId: string | null = null): Promise<VisibleListPage> {
  const pages = db.batchLoader<string, VisibleListPage>(`messages_page_visible_${bounds.order}`, (keys) => messagePages(db.plannedOnce, 'channel', bounds.order, keys, true));
  return pages.load(`${pageKey(channelId, bounds)}|${viewerId}|${sessionId ?? ''}`);
}

/** Exclusive seq bounds of a keyset page (null: none), its order and its number of rows. */
export interface PageBounds {
  after: number | null;
  before: number | null;
  order: 'asc' | 'desc';
  limit: number;
}

const pageKey = (listId: string, { after, before, limit }: PageBounds) => `${listId}|${after ?? 0}|${before ?? NO_BOUND}|${limit}`;

/**
 * The pages of messagePage, for keys `listId|after|before|limit` (no bound: 0 and NO_BOUND);
 * `withChannel`: channel pages of visibleChannelPage, keys ending in `|viewerId|sessionId`.
 */
async function messagePages(db: SqlClient, kind: 'channel' | 'thread', order: 'asc' | 'desc', keys: readonly string[], withChannel: false): Promise<ListPage[]>;
async function messagePages(db: SqlClient, kind: 'channel', order: 'asc' | 'desc', keys: readonly string[], withChannel: true): Promise<VisibleListPage[]>;
async function messagePages(db: SqlClient, kind: 'channel' | 'thread', order: 'asc' | 'desc', keys: readonly string[], withChannel: boolean): Promise<ListPage[]> {
  const parsed = keys.map((key) => key.split('|'));
  // A message on the far side of the starting cursor (none when there is no cursor: 0 and
  // NO_BOUND lie beyond every seq). A scalar subquery with ORDER BY and LIMIT: as EXISTS the
  // planner chose a sequential scan for it (17 ms for a cursor near the newest message).
  // OFFSET 0 keeps it once per page (pulled up, it ran once per row).
  const beyond =
    order === 'asc'
      ? `(select x.seq from messages x where ${listCondition(kind, 'x')} and x.seq <= k.after_seq order by x.seq desc limit 1) is not null`
      : `(select x.seq from messages x where ${listCondition(kind, 'x')} and x.seq >= k.before_seq order by x.seq limit 1) is not null`;
  // Each page comes as one JSON array of arrays (PAGE_FIELDS): pg parsed 51 rows of 12 text
  // columns field by field, 170-220 µs of the server's CPU a page against 90 for JSON.parse
  // (PostgreSQL spends about 40 µs more building it). Times come as epoch milliseconds,
  // truncated as Date would truncate the microseconds.
  const rows = await db.query<{ ord: string; beyond_start: boolean; page: PageFields[] | null } & Partial<ChannelWithMembershipRow> & Partial<SessionStateColumns>>(
    `select k.ord, b.beyond_start,
            (select json_agg(json_build_array(${PAGE_FIELDS}) order by m.seq ${order})
               from (select * from messages m
                      where ${listCondition(kind, 'm')} and m.seq > k.after_seq and m.seq < k.before_seq
                      order by m.seq ${order} limit k.lim) m) as page${withChannel ? ', a.*, s.*' : ''}
       from unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::int[]${withChannel ? ', $5::uuid[], $6::uuid[]' : ''})
            with ordinality as k(list_id, after_seq, before_seq, lim${withChannel ? ', viewer_id, session_id' : ''}, ord)
       ${withChannel ? `left join lateral ${channelForViewerSubquery('k.list_id', 'k.viewer_id')} a on true left join lateral ${sessionStateSubquery('k.session_id')} s on true` : ''}
       cross join lateral (select ${beyond} as beyond_start offset 0) b
      order by k.ord`,
    [
      parsed.map((key) => key[0]),
      parsed.map((key) => key[1]),
      parsed.map((key) => key[2]),
      parsed.map((key) => Number(key[3])),
      ...(withChannel ? [parsed.map((key) => key[4]), parsed.map((key) => key[5] || null)] : []),
    ],
    `messages_pages_${kind}_${order}${withChannel ? '_visible' : ''}`,
  );
  const pages: VisibleListPage[] = keys.map(() => ({ messages: [], beyondStart: false, channel: null, session: null }));
  for (const row of rows) {
    const page = pages[Number(row.ord) - 1];
    page.beyondStart = row.beyond_start;
    if (row.page) page.messages = row.page.map(pageFieldsSnapshot);
    if (withChannel && row.id) page.channel = row as ChannelWithMembershipRow;
    if (withChannel && row.session_expires_at) page.session = sessionStateOf(row as SessionStateColumns);
  }
  return pages;
}

/** A message of a page as json_build_array lists it (messagePages). */
const PAGE_FIELDS = [
  'm.id',
  'm.channel_id',
  'm.seq',
  'm.author_id',
  'm.body',
  "floor(extract(epoch from m.created_at) * 1000)::bigint",
  "floor(extract(epoch from m.edited_at) * 1000)::bigint",
  'm.deleted_at is not null',
  'm.upvotes',
  'm.downvotes',
  'm.thread_root_id',
  'm.version',
].join(', ');

type PageFields = [string, string, number, string, string | null, number, number | null, boolean, number, number, string | null, number];

function pageFieldsSnapshot([id, channelId, seq, authorId, body, createdAtMs, editedAtMs, deleted, upvotes, downvotes, threadRootId, version]: PageFields): MessageSnapshot {
  return {
    id,
    channelId,
    seq,
    authorId,
    author: undefined,
    body: deleted ? null : body,
    createdAt: new Date(createdAtMs),
    editedAt: editedAtMs === null ? null : new Date(editedAtMs),
    deleted,
    upvotes,
    downvotes,
    threadRootId,
    version,
  };
}

/** Larger than any seq: "no upper bound" in the batched page and replay statements. */
const NO_BOUND = '9223372036854775807';

/**
 * For each (channel, afterSeq, beforeSeq) range: its messages with their authors, oldest first,
 * at most `limit` per range, in one statement (a lateral keyset scan per range).
 */
export async function messagesInRanges(
  db: SqlClient,
  ranges: ReadonlyArray<{ channelId: string; afterSeq: string; beforeSeq: string | null }>,
  limit: number,
): Promise<MessageSnapshot[][]> {
  const rows = await db.query<AuthoredMessageRow & { ord: string }>(
    `select k.ord, ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS}
       from unnest($1::uuid[], $2::bigint[], $3::bigint[]) with ordinality as k(channel_id, after_seq, before_seq, ord)
       cross join lateral (
         select * from messages x
          where x.channel_id = k.channel_id and x.seq > k.after_seq and x.seq < k.before_seq
          order by x.seq limit $4
       ) m
       join users u on u.id = m.author_id
      order by k.ord, m.seq`,
    [ranges.map((range) => range.channelId), ranges.map((range) => range.afterSeq), ranges.map((range) => range.beforeSeq ?? NO_BOUND), limit],
    'replay_after',
  );
  const pages: MessageSnapshot[][] = ranges.map(() => []);
  for (const row of rows) pages[Number(row.ord) - 1].push(authoredSnapshot(row));
  return pages;
}

/** Messages by others in a channel since the user joined it, oldest first. */
export async function messagesSinceJoined(db: SqlClient, userId: string, channelId: string, limit: number): Promise<MessageSnapshot[]> {
  const rows = await db.query<AuthoredMessageRow>(
    `select ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS}
       from memberships mb
       join messages m on m.channel_id = mb.channel_id and m.created_at >= mb.joined_at and m.author_id <> mb.user_id
       join users u on u.id = m.author_id
      where mb.channel_id = $1 and mb.user_id = $2
      order by m.seq limit $3`,
    [channelId, userId, limit],
    'inbox_catch_up',
  );
  return rows.map(authoredSnapshot);
}

/**
 * The inbox's replay: messages by others in the user's channels (each since they joined it)
 * after `after` in the inbox order (creation time to the millisecond, channel id, seq; see
 * realtime/inbox.ts), oldest first. The creation-time bound lets the scan start on
 * messages_created_at_id_index.
 */
export async function inboxMessagesAfter(
  db: SqlClient,
  userId: string,
  after: { createdAtMs: number; channelId: string; seq: number },
  limit: number,
): Promise<MessageSnapshot[]> {
  const rows = await db.query<AuthoredMessageRow>(
    `select ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS}
       from messages m
       join memberships mb on mb.channel_id = m.channel_id and mb.user_id = $1 and m.created_at >= mb.joined_at
       join users u on u.id = m.author_id
      where m.author_id <> $1
        and m.created_at >= ('epoch'::timestamptz + $2::bigint * interval '1 millisecond')
        and (date_trunc('milliseconds', m.created_at), m.channel_id, m.seq) > (('epoch'::timestamptz + $2::bigint * interval '1 millisecond'), $3::uuid, $4::bigint)
      order by date_trunc('milliseconds', m.created_at), m.channel_id, m.seq
      limit $5`,
    [userId, after.createdAtMs, after.channelId, after.seq, limit],
    'inbox_after',
  );
  return rows.map(authoredSnapshot);
}

// ---- one message: edits, deletion, votes ----

export async function findMessage(db: SqlClient, messageId: string): Promise<MessageSnapshot | null> {
  const rows = await db.query<MessageRow>(`select ${MESSAGE_COLUMNS} from messages m where m.id = $1`, [messageId]);
  return rows[0] ? messageRowSnapshot(rows[0]) : null;
}

/** The message, its row locked for the rest of the transaction (serializing edits, deletion and votes). */
export async function lockMessage(tx: SqlClient, messageId: string): Promise<MessageSnapshot | null> {
  const rows = await tx.query<MessageRow>(`select ${MESSAGE_COLUMNS} from messages m where m.id = $1 for update`, [messageId]);
  return rows[0] ? messageRowSnapshot(rows[0]) : null;
}

/** Every write to a message bumps its version in the same statement (see MessageSnapshot.version). */
async function updateMessage(tx: SqlClient, set: string, values: unknown[]): Promise<MessageSnapshot> {
  const rows = await tx.query<MessageRow>(`update messages as m set ${set}, version = m.version + 1 where m.id = $1 returning ${MESSAGE_COLUMNS}`, values);
  return messageRowSnapshot(rows[0]);
}

export function editMessageBody(tx: SqlClient, messageId: string, body: string): Promise<MessageSnapshot> {
  return updateMessage(tx, 'body = $2, edited_at = now()', [messageId, body]);
}

/** Keeps a body an edit replaces (edit history), in the edit's transaction. */
export async function recordEdit(tx: SqlClient, messageId: string, previousBody: string): Promise<void> {
  await tx.query('insert into message_edits (message_id, body) values ($1, $2)', [messageId, previousBody]);
}

/** A deleted message keeps no edit history (in the deletion's transaction). */
export async function deleteEdits(tx: SqlClient, messageId: string): Promise<void> {
  await tx.query('delete from message_edits where message_id = $1', [messageId]);
}

export interface MessageEditRow {
  message_id: string;
  body: string;
  edited_at: Date;
}

/** The newest `limit` earlier bodies of each of these messages, newest first per message. */
export function editsOf(db: SqlClient, messageIds: readonly string[], limit: number): Promise<MessageEditRow[]> {
  return db.query<MessageEditRow>(
    `select e.message_id, e.body, e.edited_at
       from unnest($1::uuid[]) as k(id)
       cross join lateral (select * from message_edits e where e.message_id = k.id order by e.id desc limit $2) e
      order by e.message_id, e.id desc`,
    [messageIds, limit],
    'message_edits_of',
  );
}

/** These messages with their authors (the roots of replies, for their MessageUpdated events). */
export async function messagesWithAuthors(db: SqlClient, messageIds: readonly string[]): Promise<MessageSnapshot[]> {
  const rows = await db.query<AuthoredMessageRow>(
    `select ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS} from messages m join users u on u.id = m.author_id where m.id = any($1::uuid[])`,
    [messageIds],
    'messages_with_authors',
  );
  return rows.map(authoredSnapshot);
}

/** Deletion leaves a tombstone: the row stays (seqs stay gapless), without its body. */
export function tombstoneMessage(tx: SqlClient, messageId: string): Promise<MessageSnapshot> {
  return updateMessage(tx, 'body = null, deleted_at = now()', [messageId]);
}

export function addToVoteCounts(tx: SqlClient, messageId: string, up: number, down: number): Promise<MessageSnapshot> {
  return updateMessage(tx, 'upvotes = m.upvotes + $2, downvotes = m.downvotes + $3', [messageId, up, down]);
}

/** The user's stored vote on the message (1, -1), or 0 when none. */
export async function storedVote(tx: SqlClient, messageId: string, userId: string): Promise<number> {
  const rows = await tx.query<{ value: number }>('select value from votes where message_id = $1 and user_id = $2', [messageId, userId]);
  return rows[0] ? Number(rows[0].value) : 0;
}

/** Stores the vote (1 or -1), or removes it (0). */
export async function storeVote(tx: SqlClient, messageId: string, userId: string, value: number): Promise<void> {
  if (value === 0) {
    await tx.query('delete from votes where message_id = $1 and user_id = $2', [messageId, userId]);
    return;
  }
  await tx.query('insert into votes (message_id, user_id, value) values ($1, $2, $3) on conflict (message_id, user_id) do update set value = excluded.value', [
    messageId,
    userId,
    value,
  ]);
}

/** The viewer's stored votes on these messages. */
export async function votesOf(db: SqlClient, userId: string, messageIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await db.query<{ message_id: string; value: number }>('select message_id, value from votes where user_id = $1 and message_id = any($2::uuid[])', [
    userId,
    messageIds,
  ]);
  return new Map(rows.map((row) => [row.message_id, Number(row.value)]));
}

/** Messages by id with their authors (events carry no email), in the order of `ids`; null for unknown ids. */
export async function authoredMessagesByIds(db: SqlClient, ids: readonly string[]): Promise<Array<MessageSnapshot | null>> {
  const rows = await db.query<AuthoredMessageRow>(
    `select ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS} from messages m join users u on u.id = m.author_id where m.id = any($1::uuid[])`,
    [ids],
    'messages_by_ids_authored',
  );
  const byId = new Map(rows.map((row) => [row.id, authoredSnapshot(row)]));
  return ids.map((id) => byId.get(id) ?? null);
}
