// Every SQL statement on the channels tables: channels, memberships (and the reads that
// start from them: unread counts, read markers).
import type { ChannelSnapshot, UserSnapshot } from '../domain/snapshots';
import { type SessionStateColumns, sessionStateOf, sessionStateSubquery, type UserRow, userRowSnapshot } from '../accounts/account.queries';
import type { SessionState } from '../shared/context';
import type { SqlClient, SqlPool } from '../shared/sql';
import { ChannelKind } from './channel.entity';
import { directUserIds } from './channel.types';
import type { MemberRole } from './membership.entity';

export interface ChannelRow {
  id: string;
  name: string;
  description: string | null;
  kind: ChannelKind;
  owner_id: string | null;
  created_at: Date;
  member_count: number;
  last_seq: string | number;
  slow_mode_seconds: number;
}

/** A channel row joined with one viewer's membership (null columns when not a member). */
export interface ChannelWithMembershipRow extends ChannelRow {
  member_role: MemberRole | null;
  member_last_read_seq: string | number | null;
  member_muted_until: Date | null;
}

export interface ViewerMembership {
  role: MemberRole;
  lastReadSeq: number;
  /** A timeout (muteInChannel) until then; null or past: none. */
  mutedUntil: Date | null;
}

/** The columns every channel query selects, qualified with the alias `c`. */
const CHANNEL_COLUMNS = 'c.id, c.name, c.description, c.kind, c.owner_id, c.created_at, c.member_count, c.last_seq, c.slow_mode_seconds';

/** The channel columns with the viewer's membership (`left join memberships m`). */
const WITH_MEMBERSHIP = `${CHANNEL_COLUMNS}, m.role as member_role, m.last_read_seq as member_last_read_seq, m.muted_until as member_muted_until`;

/** The same columns unqualified, for `returning` clauses. */
const RETURNING_CHANNEL = 'id, name, description, kind, owner_id, created_at, member_count, last_seq, slow_mode_seconds';

export function channelRowSnapshot(row: ChannelRow): ChannelSnapshot {
  const kind = row.kind;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    kind,
    ownerId: row.owner_id,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
    memberCount: Number(row.member_count),
    lastSeq: Number(row.last_seq),
    slowModeSeconds: Number(row.slow_mode_seconds ?? 0),
    directUserIds: kind === ChannelKind.DIRECT ? directUserIds(row.name) : null,
  };
}

export function rowMembership(row: ChannelWithMembershipRow): ViewerMembership | null {
  if (!row.member_role) return null;
  return { role: row.member_role, lastReadSeq: Number(row.member_last_read_seq ?? 0), mutedUntil: row.member_muted_until };
}

// ---- a channel with a viewer's membership: the one statement for every access check ----

type AccessRow = ChannelWithMembershipRow & { viewer_id: string };

/**
 * (viewer, channel) pairs: each channel with that viewer's membership. `lock` takes the
 * channel rows `for update` (serializing membership changes, owner transfer and deletion).
 */
function channelsForViewers(db: SqlClient, pairs: ReadonlyArray<{ viewerId: string; channelId: string }>, lock: boolean): Promise<AccessRow[]> {
  return db.query<AccessRow>(
    `select k.viewer_id, ${WITH_MEMBERSHIP}
       from unnest($1::uuid[], $2::uuid[]) as k(channel_id, viewer_id)
       join channels c on c.id = k.channel_id
       left join memberships m on m.channel_id = c.id and m.user_id = k.viewer_id${lock ? ' for update of c' : ''}`,
    [pairs.map((pair) => pair.channelId), pairs.map((pair) => pair.viewerId)],
    lock ? 'channel_access_locked' : 'channel_access',
  );
}

/**
 * For a statement of another feature that checks access in the same statement (one round trip
 * instead of two): a subquery of the channel `channel` with the membership of `viewer` (SQL
 * expressions of the outer statement), with the columns of ChannelWithMembershipRow; no row
 * when the channel does not exist. `accessOf` of its row decides.
 */
export function channelForViewerSubquery(channel: string, viewer: string): string {
  return `(select ${WITH_MEMBERSHIP} from channels c left join memberships m on m.channel_id = c.id and m.user_id = ${viewer} where c.id = ${channel})`;
}

const accessKey = (viewerId: string, channelId: string) => `${viewerId.toLowerCase()}|${channelId.toLowerCase()}`;

/** Unlocked and fresh on every call; the checks of concurrent requests (any viewers, any channels) share one statement. */
export function channelAccessLoader(sql: SqlPool) {
  const loader = sql.batchLoader<string, ChannelWithMembershipRow | null>('channel_access', async (keys) => {
    const rows = await channelsForViewers(
      sql,
      keys.map((key) => {
        const [viewerId, channelId] = key.split('|');
        return { viewerId, channelId };
      }),
      false,
    );
    const byKey = new Map(rows.map((row) => [accessKey(row.viewer_id, row.id), row]));
    return keys.map((key) => byKey.get(key) ?? null);
  });
  // With a request's pending session check (PendingSessionCheck): the session read in the same statement.
  const checking = sql.batchLoader<string, { channel: ChannelWithMembershipRow | null; session: SessionState | null }>('channel_access_session', async (keys) => {
    const triples = keys.map((key) => key.split('|'));
    const rows = await sql.query<{ ord: string } & Partial<ChannelWithMembershipRow> & SessionStateColumns>(
      `select k.ord, ${WITH_MEMBERSHIP}, s.*
         from unnest($1::uuid[], $2::uuid[], $3::uuid[]) with ordinality as k(viewer_id, channel_id, session_id, ord)
         left join channels c on c.id = k.channel_id
         left join memberships m on m.channel_id = c.id and m.user_id = k.viewer_id
         left join lateral ${sessionStateSubquery('k.session_id')} s on true`,
      [triples.map((key) => key[0]), triples.map((key) => key[1]), triples.map((key) => key[2])],
      'channel_access_session',
    );
    const found = keys.map(() => ({ channel: null as ChannelWithMembershipRow | null, session: null as SessionState | null }));
    for (const row of rows) found[Number(row.ord) - 1] = { channel: row.id ? (row as ChannelWithMembershipRow) : null, session: sessionStateOf(row) };
    return found;
  });
  return {
    load: (viewerId: string, channelId: string) => loader.load(accessKey(viewerId, channelId)),
    loadChecking: (viewerId: string, channelId: string, sessionId: string) => checking.load(`${accessKey(viewerId, channelId)}|${sessionId}`),
  };
}

/** The channel with the viewer's membership, its row locked for the rest of the transaction. */
export async function lockChannelForViewer(tx: SqlClient, viewerId: string, channelId: string): Promise<ChannelWithMembershipRow | null> {
  return (await channelsForViewers(tx, [{ viewerId, channelId }], true))[0] ?? null;
}

// ---- reads ----

/** The viewer's memberships of these channels. */
export async function viewerMemberships(db: SqlClient, viewerId: string, channelIds: readonly string[]): Promise<Map<string, ViewerMembership>> {
  const rows = await db.query<{ channel_id: string; role: MemberRole; last_read_seq: string; muted_until: Date | null }>(
    'select channel_id, role, last_read_seq, muted_until from memberships where user_id = $1 and channel_id = any($2::uuid[])',
    [viewerId, channelIds],
  );
  return new Map(rows.map((row) => [row.channel_id, { role: row.role, lastReadSeq: Number(row.last_read_seq), mutedUntil: row.muted_until }]));
}

/** Every channel of the viewer, most recently active first, with the viewer's memberships. */
export async function channelsOfMember(db: SqlClient, viewerId: string): Promise<Array<{ channel: ChannelSnapshot; membership: ViewerMembership }>> {
  const rows = await db.query<ChannelWithMembershipRow>(
    `select ${WITH_MEMBERSHIP}
       from memberships m join channels c on c.id = m.channel_id
      where m.user_id = $1
      order by c.last_activity_at desc, c.id`,
    [viewerId],
  );
  return rows.map((row) => ({ channel: channelRowSnapshot(row), membership: rowMembership(row) as ViewerMembership }));
}

/** The ids of the user's channels (what the inbox follows). */
export async function memberChannelIds(db: SqlClient, userId: string): Promise<string[]> {
  const rows = await db.query<{ channel_id: string }>('select channel_id from memberships where user_id = $1', [userId], 'inbox_channels');
  return rows.map((row) => row.channel_id);
}

/** PUBLIC channels by name, optionally those whose name matches a LIKE pattern, after a name. */
export async function publicDirectory(db: SqlClient, pattern: string | null, afterName: string | null, limit: number): Promise<ChannelSnapshot[]> {
  const conditions = [`c.kind = 'PUBLIC'`];
  const values: unknown[] = [];
  if (pattern !== null) conditions.push(`c.name like $${values.push(pattern)} escape '\\'`);
  if (afterName !== null) conditions.push(`c.name > $${values.push(afterName)}`);
  const rows = await db.query<ChannelRow>(
    `select ${CHANNEL_COLUMNS} from channels c where ${conditions.join(' and ')} order by c.name limit $${values.push(limit)}`,
    values,
  );
  return rows.map(channelRowSnapshot);
}

/**
 * Unread messages per channel for the viewer: messages by others, not deleted, not thread
 * replies (threads count their own: Thread.unreadCount), after the read marker. A range scan on
 * the partial index of top-level messages (channel_id, seq) from each marker. Non-members get none.
 */
export async function unreadCounts(db: SqlClient, viewerId: string, channelIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await db.query<{ channel_id: string; unread: number }>(
    `select mb.channel_id, count(msg.id)::int as unread
       from memberships mb
       join messages msg on msg.channel_id = mb.channel_id and msg.seq > mb.last_read_seq
      where mb.user_id = $1 and mb.channel_id = any($2::uuid[]) and msg.author_id <> $1 and msg.deleted_at is null and msg.thread_root_id is null
      group by mb.channel_id`,
    [viewerId, channelIds],
  );
  return new Map(rows.map((row) => [row.channel_id, Number(row.unread)]));
}

/**
 * Member pages of several channels with the same page arguments, keyset on user id (the
 * memberships primary key (channel_id, user_id) serves it): a lateral join per channel.
 * Each channel gets up to `limit` users.
 */
export async function memberPages(db: SqlClient, channelIds: readonly string[], afterUserId: string | null, limit: number): Promise<Map<string, UserSnapshot[]>> {
  const values: unknown[] = [channelIds];
  const after = afterUserId ? ` and m.user_id > $${values.push(afterUserId)}` : '';
  const rows = await db.query<{ channel_id: string } & UserRow>(
    `select c.id as channel_id, x.*
       from channels c
       cross join lateral (
         select u.id, u.username, u.display_name, u.bio, u.email, u.created_at
           from memberships m join users u on u.id = m.user_id
          where m.channel_id = c.id${after}
          order by m.user_id
          limit $${values.push(limit)}
       ) x
      where c.id = any($1::uuid[])`,
    values,
  );
  const pages = new Map<string, UserSnapshot[]>(channelIds.map((id) => [id, []]));
  for (const row of rows) pages.get(row.channel_id)?.push(userRowSnapshot(row));
  return pages;
}

// ---- writes (in a transaction holding the channel's row lock where order matters) ----

export interface NewChannel {
  id: string;
  name: string;
  description: string | null;
  kind: ChannelKind;
  ownerId: string | null;
  memberCount: number;
}

/** Null when the name is taken. */
export async function insertChannel(tx: SqlClient, channel: NewChannel): Promise<ChannelSnapshot | null> {
  const rows = await tx.query<ChannelRow>(
    `insert into channels (id, name, description, kind, owner_id, member_count) values ($1, $2, $3, $4, $5, $6)
     on conflict (name) do nothing returning ${RETURNING_CHANNEL}`,
    [channel.id, channel.name, channel.description, channel.kind, channel.ownerId, channel.memberCount],
  );
  return rows[0] ? channelRowSnapshot(rows[0]) : null;
}

export async function channelIdByName(db: SqlClient, name: string): Promise<string | null> {
  const rows = await db.query<{ id: string }>('select id from channels where name = $1', [name]);
  return rows[0]?.id ?? null;
}

export async function lockChannelByName(tx: SqlClient, name: string): Promise<ChannelSnapshot | null> {
  const rows = await tx.query<ChannelRow>(`select ${RETURNING_CHANNEL} from channels where name = $1 for update`, [name]);
  return rows[0] ? channelRowSnapshot(rows[0]) : null;
}

export async function findChannel(db: SqlClient, channelId: string): Promise<ChannelSnapshot> {
  const rows = await db.query<ChannelRow>(`select ${RETURNING_CHANNEL} from channels where id = $1`, [channelId]);
  return channelRowSnapshot(rows[0]);
}

export async function nameTakenByOther(db: SqlClient, name: string, channelId: string): Promise<boolean> {
  const rows = await db.query('select 1 from channels where name = $1 and id <> $2', [name, channelId]);
  return rows.length > 0;
}

export async function updateChannelText(tx: SqlClient, channelId: string, name: string, description: string | null): Promise<ChannelSnapshot> {
  const rows = await tx.query<ChannelRow>(`update channels set name = $1, description = $2, updated_at = now() where id = $3 returning ${RETURNING_CHANNEL}`, [
    name,
    description,
    channelId,
  ]);
  return channelRowSnapshot(rows[0]);
}

export async function addToMemberCount(tx: SqlClient, channelId: string, delta: number): Promise<ChannelSnapshot> {
  const rows = await tx.query<ChannelRow>(`update channels set member_count = member_count + $1 where id = $2 returning ${RETURNING_CHANNEL}`, [delta, channelId]);
  return channelRowSnapshot(rows[0]);
}

export async function setOwner(tx: SqlClient, channelId: string, ownerId: string | null): Promise<ChannelSnapshot> {
  const rows = await tx.query<ChannelRow>(`update channels set owner_id = $1, updated_at = now() where id = $2 returning ${RETURNING_CHANNEL}`, [ownerId, channelId]);
  return channelRowSnapshot(rows[0]);
}

/** Deletes the channel; its messages and memberships go with it (FK cascades). */
export async function deleteChannel(tx: SqlClient, channelId: string): Promise<void> {
  await tx.query('delete from channels where id = $1', [channelId]);
}

/** Inserts memberships that do not exist yet; the user ids really added. */
export async function insertMemberships(tx: SqlClient, channelId: string, userIds: readonly string[], role: MemberRole): Promise<string[]> {
  const rows = await tx.query<{ user_id: string }>(
    `insert into memberships (channel_id, user_id, role) select $1::uuid, unnest($2::uuid[]), $3::text
     on conflict do nothing returning user_id`,
    [channelId, userIds, role],
  );
  return rows.map((row) => row.user_id);
}

/**
 * Of `userIds`, those already in `cap` channels other than `channelId`. Their user rows are
 * locked first (FOR NO KEY UPDATE: membership inserts of one user wait for each other, while
 * the foreign-key checks of other inserts, which take KEY SHARE, do not), so concurrent joins
 * cannot overshoot the cap.
 */
export async function usersAtChannelCap(tx: SqlClient, userIds: readonly string[], channelId: string, cap: number): Promise<string[]> {
  await tx.query('select id from users where id = any($1::uuid[]) order by id for no key update', [userIds]);
  const rows = await tx.query<{ user_id: string }>(
    `select user_id from memberships where user_id = any($1::uuid[]) and channel_id <> $2
      group by user_id having count(*) >= $3`,
    [userIds, channelId, cap],
  );
  return rows.map((row) => row.user_id);
}

/** The role the removed member had, or null when they were none. */
export async function deleteMembership(tx: SqlClient, channelId: string, userId: string): Promise<MemberRole | null> {
  const rows = await tx.query<{ role: MemberRole }>('delete from memberships where channel_id = $1 and user_id = $2 returning role', [channelId, userId]);
  return rows[0]?.role ?? null;
}

/** The longest-standing member. */
export async function oldestMember(tx: SqlClient, channelId: string): Promise<string | null> {
  const rows = await tx.query<{ user_id: string }>('select user_id from memberships where channel_id = $1 order by joined_at, user_id limit 1', [channelId]);
  return rows[0]?.user_id ?? null;
}

export async function setMemberRole(tx: SqlClient, channelId: string, userId: string, role: MemberRole): Promise<void> {
  await tx.query('update memberships set role = $1 where channel_id = $2 and user_id = $3', [role, channelId, userId]);
}

export async function memberIds(tx: SqlClient, channelId: string): Promise<string[]> {
  const rows = await tx.query<{ user_id: string }>('select user_id from memberships where channel_id = $1', [channelId]);
  return rows.map((row) => row.user_id);
}

/** The seq of a message of the channel (what a read marker points at), or null. */
export async function messageSeqIn(db: SqlClient, channelId: string, messageId: string): Promise<number | null> {
  const rows = await db.query<{ seq: string }>('select seq from messages where id = $1 and channel_id = $2', [messageId, channelId]);
  return rows[0] ? Number(rows[0].seq) : null;
}

/** Read markers only move forward; true when this one did (one statement, which also stamps when). */
export async function advanceReadMarker(db: SqlClient, channelId: string, userId: string, seq: number): Promise<boolean> {
  const rows = await db.query(
    'update memberships set last_read_seq = $1, last_read_at = now() where channel_id = $2 and user_id = $3 and last_read_seq < $1 returning 1',
    [seq, channelId, userId],
    'advance_read_marker',
  );
  return rows.length > 0;
}

// ---- moderation: roles, timeouts, slow mode, bans ----

/** A member's role, or null when they are not a member. */
export async function memberRole(db: SqlClient, channelId: string, userId: string): Promise<MemberRole | null> {
  const rows = await db.query<{ role: MemberRole }>('select role from memberships where channel_id = $1 and user_id = $2', [channelId, userId]);
  return rows[0]?.role ?? null;
}

export async function setMutedUntil(tx: SqlClient, channelId: string, userId: string, until: Date): Promise<void> {
  await tx.query('update memberships set muted_until = $1 where channel_id = $2 and user_id = $3', [until, channelId, userId]);
}

export async function setSlowMode(tx: SqlClient, channelId: string, seconds: number): Promise<ChannelSnapshot> {
  const rows = await tx.query<ChannelRow>(`update channels set slow_mode_seconds = $1, updated_at = now() where id = $2 returning ${RETURNING_CHANNEL}`, [seconds, channelId]);
  return channelRowSnapshot(rows[0]);
}

/** Whether a ban of the user from the channel is in force (not expired): read on every way in. */
export async function isBanned(db: SqlClient, channelId: string, userId: string): Promise<boolean> {
  const rows = await db.query('select 1 from channel_bans where channel_id = $1 and user_id = $2 and (expires_at is null or expires_at > now())', [channelId, userId], 'ban_in_force');
  return rows.length > 0;
}

/** Bans (or bans again, replacing expiry and reason). */
export async function upsertBan(tx: SqlClient, ban: { channelId: string; userId: string; expiresAt: Date | null; reason: string | null; bannedBy: string }): Promise<void> {
  await tx.query(
    `insert into channel_bans (channel_id, user_id, expires_at, reason, banned_by) values ($1, $2, $3, $4, $5)
     on conflict (channel_id, user_id) do update set expires_at = excluded.expires_at, reason = excluded.reason, banned_by = excluded.banned_by, created_at = now()`,
    [ban.channelId, ban.userId, ban.expiresAt, ban.reason, ban.bannedBy],
  );
}

/** Lifts a ban in force: false when there was none (an expired one is dropped all the same). */
export async function deleteBan(tx: SqlClient, channelId: string, userId: string): Promise<boolean> {
  const rows = await tx.query<{ in_force: boolean }>(
    'delete from channel_bans where channel_id = $1 and user_id = $2 returning (expires_at is null or expires_at > now()) as in_force',
    [channelId, userId],
  );
  return rows[0]?.in_force === true;
}
