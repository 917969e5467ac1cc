// Every SQL statement on the accounts tables: users, sessions, activity_log.
import type { UserSnapshot } from '../domain/snapshots';
import type { SqlClient, SqlPool } from '../shared/sql';
import type { SessionState } from '../shared/context';
import type { ActivityAction } from './activity.entity';

export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  bio: string | null;
  email: string;
  created_at: Date;
}

interface UserKeyRow extends UserRow {
  username_key: string;
}

/** A user with the password hash, for sign-in and password changes only. */
export interface UserWithPasswordRow extends UserRow {
  password_hash: string;
}

export interface SessionRow {
  id: string;
  token_hash: string;
  user_id: string;
  last_used_at: Date | string;
  expires_at: Date | string;
  revoked_at: Date | string | null;
}

export interface ActivityRow {
  id: string;
  action: ActivityAction;
  channel_id: string | null;
  at: Date;
}

/** The user columns, qualified with the alias `u`. */
const USER_COLUMNS = 'u.id, u.username, u.display_name, u.bio, u.email, u.created_at';

export function userRowSnapshot(row: UserRow): UserSnapshot {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    bio: row.bio,
    email: row.email,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
  };
}

// ---- users ----

/** Users by id; the lookups of concurrent requests share one statement (instance-wide). */
export function usersByIdLoader(sql: SqlPool) {
  return sql.batchLoader<string, UserSnapshot | null>('users_by_id', async (ids) => {
    const wanted = [...new Set(ids)];
    const rows = await sql.query<UserRow>(`select ${USER_COLUMNS} from users u where u.id = any($1::uuid[])`, [wanted], 'users_by_id');
    const byId = new Map(rows.map((row) => [row.id, userRowSnapshot(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

export async function findUserById(db: SqlClient, id: string): Promise<UserSnapshot | null> {
  const rows = await db.query<UserRow>(`select ${USER_COLUMNS} from users u where u.id = $1`, [id]);
  return rows[0] ? userRowSnapshot(rows[0]) : null;
}

export async function findUserByUsernameKey(db: SqlClient, key: string): Promise<UserSnapshot | null> {
  const rows = await db.query<UserRow>(`select ${USER_COLUMNS} from users u where u.username_key = $1`, [key]);
  return rows[0] ? userRowSnapshot(rows[0]) : null;
}

/** The user with their password hash, by id, email or username key. */
export async function findUserWithPassword(db: SqlClient, by: { id: string } | { email: string } | { usernameKey: string }): Promise<UserWithPasswordRow | null> {
  const [column, value] = 'id' in by ? ['id', by.id] : 'email' in by ? ['email', by.email] : ['username_key', by.usernameKey];
  const rows = await db.query<UserWithPasswordRow>(`select ${USER_COLUMNS}, u.password_hash from users u where u.${column} = $1`, [value]);
  return rows[0] ?? null;
}

/** Which of an email and a username key are taken already. */
export async function takenIdentifiers(db: SqlClient, email: string, usernameKey: string): Promise<{ email: boolean; username: boolean }> {
  const rows = await db.query<{ email: string; username_key: string }>('select email, username_key from users where email = $1 or username_key = $2', [email, usernameKey]);
  return { email: rows.some((row) => row.email === email), username: rows.some((row) => row.username_key === usernameKey) };
}

export interface NewUser {
  email: string;
  username: string;
  usernameKey: string;
  displayName: string;
  passwordHash: string;
}

export async function insertUser(db: SqlClient, id: string, user: NewUser): Promise<UserSnapshot> {
  const rows = await db.query<UserRow>(
    `insert into users as u (id, email, username, username_key, display_name, bio, password_hash) values ($1, $2, $3, $4, $5, null, $6)
     returning ${USER_COLUMNS}`,
    [id, user.email, user.username, user.usernameKey, user.displayName, user.passwordHash],
  );
  return userRowSnapshot(rows[0]);
}

export async function updatePasswordHash(db: SqlClient, userId: string, passwordHash: string, { touch }: { touch: boolean }): Promise<void> {
  await db.query(`update users set password_hash = $2${touch ? ', updated_at = now()' : ''} where id = $1`, [userId, passwordHash]);
}

/** Sets the given fields (an absent one stays as it is); null when there is no such user. */
export async function updateProfile(db: SqlClient, userId: string, changes: { displayName?: string; bio?: string | null; shareReadReceipts?: boolean }): Promise<UserSnapshot | null> {
  const values: unknown[] = [userId];
  const sets: string[] = [];
  if (changes.displayName !== undefined) sets.push(`display_name = $${values.push(changes.displayName)}`);
  if (changes.bio !== undefined) sets.push(`bio = $${values.push(changes.bio)}`);
  if (changes.shareReadReceipts !== undefined) sets.push(`share_read_receipts = $${values.push(changes.shareReadReceipts)}`);
  const rows =
    sets.length === 0
      ? await db.query<UserRow>(`select ${USER_COLUMNS} from users u where u.id = $1`, values)
      : await db.query<UserRow>(`update users as u set ${sets.join(', ')}, updated_at = now() where u.id = $1 returning ${USER_COLUMNS}`, values);
  return rows[0] ? userRowSnapshot(rows[0]) : null;
}

/** Users by username key, optionally those whose username key or lowercased display name matches a LIKE pattern. */
export async function listUsers(db: SqlClient, pattern: string | null, afterKey: string | null, limit: number): Promise<Array<UserSnapshot & { usernameKey: string }>> {
  const conditions: string[] = [];
  const values: unknown[] = [];
  if (pattern !== null) {
    const p = `$${values.push(pattern)}`;
    conditions.push(`(u.username_key like ${p} escape '\\' or lower(u.display_name) like ${p} escape '\\')`);
  }
  if (afterKey !== null) conditions.push(`u.username_key > $${values.push(afterKey)}`);
  const rows = await db.query<UserKeyRow>(
    `select ${USER_COLUMNS}, u.username_key from users u${conditions.length > 0 ? ` where ${conditions.join(' and ')}` : ''}
      order by u.username_key limit $${values.push(limit)}`,
    values,
  );
  return rows.map((row) => ({ ...userRowSnapshot(row), usernameKey: row.username_key }));
}

// ---- sessions ----

/** Sessions by token hash; the lookups of concurrent requests share one statement. */
export function sessionsByTokenHash(db: SqlClient, hashes: readonly string[]): Promise<SessionRow[]> {
  return db.query<SessionRow>(
    'select id, token_hash, user_id, last_used_at, expires_at, revoked_at from sessions where token_hash = any($1::text[])',
    [hashes],
    'sessions_by_token_hash',
  );
}

/** A session with its user's row as JSON (null when the user is gone). */
export interface SessionUserRow extends SessionRow {
  user_row: Record<string, unknown> | null;
}

/**
 * Sessions by token hash with their users' rows: an authenticated HTTP request reads its
 * session and its viewer in one statement; the lookups of concurrent requests share it. The
 * user comes as the row's JSON (without the password hash) so that only the sessions table
 * decides whether a token authenticates; a row that does not read as a user is ignored and
 * the user is looked up the usual way.
 */
export function sessionsWithUsersByTokenHash(db: SqlClient, hashes: readonly string[]): Promise<SessionUserRow[]> {
  return db.query<SessionUserRow>(
    `select s.id, s.token_hash, s.user_id, s.last_used_at, s.expires_at, s.revoked_at, to_jsonb(u) - 'password_hash' as user_row
       from (select id, token_hash, user_id, last_used_at, expires_at, revoked_at from sessions where token_hash = any($1::text[])) s
       left join users u on u.id = s.user_id`,
    [hashes],
    'sessions_users_by_token_hash',
  );
}

/**
 * A session's state by id (a null id reads nothing), for a statement of another feature that
 * checks the request's session along with its own rows (PendingSessionCheck): a subquery to
 * join laterally, its columns named session_*; with the user's row, as authenticateRequest
 * reads it (the viewer's own profile is read with the session in every request).
 */
export function sessionStateSubquery(sessionId: string): string {
  return `(select s.revoked_at as session_revoked_at, s.expires_at as session_expires_at, s.last_used_at as session_last_used_at,
                  (select to_jsonb(u) - 'password_hash' from users u where u.id = s.user_id) as session_user_row
             from sessions s where s.id = ${sessionId})`;
}

/**
 * Common table expressions that check the sessions of a batch of writes in the statement that
 * makes them (a batch of sends, messages' send statement), for a write that must not happen
 * when its session is no longer live: liveness is judged here, as SessionService judges it.
 * `session_check` has one row per element of `ids` (a uuid[] placeholder; null where a write
 * carries no check), numbered by `ord`, with `signed_out` true where the session is missing,
 * revoked, expired, or idle for `idleSeconds` or more. A live session last used
 * more than `touchAfterSeconds` ago counts as used now (`session_touch`), as a lookup would.
 */
export function sessionCheckCtes(ids: string, idleSeconds: string, touchAfterSeconds: string): string {
  return `session_check as (
       select t.ord, t.session_id is not null and s.id is null as signed_out, s.id as live_id, s.last_used_at
         from unnest(${ids}::uuid[]) with ordinality as t(session_id, ord)
         left join sessions s on s.id = t.session_id and s.revoked_at is null and s.expires_at > now()
                             and s.last_used_at > now() - ${idleSeconds} * interval '1 second'
     ), session_touch as (
       update sessions set last_used_at = now()
        where id in (select live_id from session_check where last_used_at < now() - ${touchAfterSeconds} * interval '1 second') and revoked_at is null
     )`;
}

/** The columns of sessionStateSubquery (all null when it read no session). */
export interface SessionStateColumns {
  session_revoked_at: Date | null;
  session_expires_at: Date | null;
  session_last_used_at: Date | null;
  session_user_row: Record<string, unknown> | null;
}

export function sessionStateOf(row: SessionStateColumns): SessionState | null {
  if (!row.session_expires_at || !row.session_last_used_at) return null;
  return { revokedAt: row.session_revoked_at, expiresAt: new Date(row.session_expires_at), lastUsedAt: new Date(row.session_last_used_at), user: userJsonSnapshot(row.session_user_row) };
}

/** A user's row read as JSON (sessionsWithUsersByTokenHash), or null when it lacks a column of a user. */
export function userJsonSnapshot(row: Record<string, unknown> | null): UserSnapshot | null {
  if (!row) return null;
  const { id, username, display_name, bio, email, created_at } = row;
  if (typeof id !== 'string' || typeof username !== 'string' || typeof display_name !== 'string' || typeof email !== 'string' || typeof created_at !== 'string') return null;
  if (bio !== null && typeof bio !== 'string') return null;
  return { id, username, displayName: display_name, bio, email, createdAt: new Date(created_at) };
}

/** Sessions by id (the sessions of open sockets, checked again); the checks of concurrent operations share one statement. */
export function sessionsById(db: SqlClient, ids: readonly string[]): Promise<SessionRow[]> {
  return db.query<SessionRow>(
    'select id, token_hash, user_id, last_used_at, expires_at, revoked_at from sessions where id = any($1::uuid[])',
    [ids],
    'sessions_by_id',
  );
}

export async function touchSession(db: SqlClient, sessionId: string, at: Date): Promise<void> {
  await db.query('update sessions set last_used_at = $1 where id = $2 and revoked_at is null', [at, sessionId], 'sessions_touch');
}

export interface NewSession {
  id: string;
  userId: string;
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}

export async function insertSession(db: SqlClient, session: NewSession): Promise<void> {
  await db.query(
    'insert into sessions (id, user_id, token_hash, created_at, last_used_at, expires_at, revoked_at, ip, user_agent) values ($1, $2, $3, $4, $4, $5, null, $6, $7)',
    [session.id, session.userId, session.tokenHash, session.createdAt, session.expiresAt, session.ip, session.userAgent],
  );
}

/** True when the session was live and is now revoked. */
export async function revokeSession(db: SqlClient, sessionId: string): Promise<boolean> {
  const rows = await db.query('update sessions set revoked_at = now() where id = $1 and revoked_at is null returning id', [sessionId]);
  return rows.length > 0;
}

/** Revokes every live session of the user but one; the ids revoked. */
export async function revokeOtherSessions(db: SqlClient, userId: string, keepSessionId: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>('update sessions set revoked_at = now() where user_id = $1 and id <> $2 and revoked_at is null returning id', [userId, keepSessionId]);
  return rows.map((row) => row.id);
}

/** Whether the user has signed in from this address before. */
export async function hasSessionFrom(db: SqlClient, userId: string, ip: string): Promise<boolean> {
  const rows = await db.query('select 1 from sessions where user_id = $1 and ip = $2 limit 1', [userId, ip]);
  return rows.length > 0;
}

// ---- activity_log ----

export interface ActivityDetails {
  channelId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

export async function insertActivity(db: SqlClient, userId: string, action: ActivityAction, details: ActivityDetails): Promise<void> {
  await db.query('insert into activity_log (user_id, action, channel_id, at, ip, user_agent) values ($1, $2, $3, now(), $4, $5)', [
    userId,
    action,
    details.channelId ?? null,
    details.ip ?? null,
    details.userAgent?.slice(0, 512) ?? null,
  ]);
}

/** The user's entries newest first, below `beforeId` when given. */
export function listActivity(db: SqlClient, userId: string, beforeId: number | null, limit: number): Promise<ActivityRow[]> {
  return beforeId === null
    ? db.query<ActivityRow>('select id, action, channel_id, at from activity_log where user_id = $1 order by id desc limit $2', [userId, limit])
    : db.query<ActivityRow>('select id, action, channel_id, at from activity_log where user_id = $1 and id < $2 order by id desc limit $3', [userId, beforeId, limit]);
}

// ---- user_blocks ----

/** True when the block is new. */
export async function insertBlock(db: SqlClient, blockerId: string, blockedId: string): Promise<boolean> {
  const rows = await db.query('insert into user_blocks (blocker_id, blocked_id) values ($1, $2) on conflict do nothing returning blocked_id', [blockerId, blockedId]);
  return rows.length > 0;
}

/** True when there was a block. */
export async function deleteBlock(db: SqlClient, blockerId: string, blockedId: string): Promise<boolean> {
  const rows = await db.query('delete from user_blocks where blocker_id = $1 and blocked_id = $2 returning blocked_id', [blockerId, blockedId]);
  return rows.length > 0;
}

export async function isBlocked(db: SqlClient, blockerId: string, blockedId: string): Promise<boolean> {
  const rows = await db.query('select 1 from user_blocks where blocker_id = $1 and blocked_id = $2', [blockerId, blockedId]);
  return rows.length > 0;
}

/** The users the blocker blocked, most recent first. */
export async function blockedUsers(db: SqlClient, blockerId: string): Promise<UserSnapshot[]> {
  const rows = await db.query<UserRow>(
    `select ${USER_COLUMNS} from user_blocks b join users u on u.id = b.blocked_id where b.blocker_id = $1 order by b.created_at desc, u.id`,
    [blockerId],
  );
  return rows.map(userRowSnapshot);
}
