// Channel rows read with plain SQL (locks, `on conflict`, joins with the viewer's membership)
// and their conversion to snapshots. Services and loaders share these; nothing here writes.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ChannelSnapshot, UserSnapshot } from '../domain/snapshots';
import { isUuid } from '../shared/ids';
import { BadUserInputError, NotFoundError } from '../shared/errors';
import { ChannelKind } from './channel.entity';
import { MemberRole } from './membership.entity';
import { directUserIds } from './channel.types';

export interface ChannelRow {
  id: string;
  name: string;
  description: string | null;
  kind: ChannelKind;
  owner_id: string | null;
  created_at: Date;
  member_count: number;
  last_seq: string | number;
}

/** A channel row joined with the viewer's membership (null columns when not a member). */
export interface ChannelWithMembershipRow extends ChannelRow {
  member_role: MemberRole | null;
  member_last_read_seq: string | number | null;
}

export interface ViewerMembership {
  role: MemberRole;
  lastReadSeq: number;
}

/** The columns every channel query selects, qualified with the alias `c`. */
export const CHANNEL_COLUMNS = 'c.id, c.name, c.description, c.kind, c.owner_id, c.created_at, c.member_count, c.last_seq';

/** The same columns unqualified, for `returning` clauses. */
export const RETURNING_CHANNEL = 'id, name, description, kind, owner_id, created_at, member_count, last_seq';

export function rowSnapshot(row: ChannelRow): ChannelSnapshot {
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
    directUserIds: kind === ChannelKind.DIRECT ? directUserIds(row.name) : null,
  };
}

export function rowMembership(row: ChannelWithMembershipRow): ViewerMembership | null {
  if (!row.member_role) return null;
  return { role: row.member_role, lastReadSeq: Number(row.member_last_read_seq ?? 0) };
}

/** PUBLIC channels are visible to every signed-in user; the others to their members only. */
export function isVisible(row: ChannelWithMembershipRow): boolean {
  return row.kind === ChannelKind.PUBLIC || row.member_role !== null;
}

/**
 * The channel with the viewer's membership in one statement, optionally locking the channel row
 * (`for update` serializes membership changes, owner transfer and deletion of one channel).
 * Null when it does not exist or is invisible to the viewer.
 */
export async function findChannelForViewer(
  em: EntityManager,
  viewerId: string,
  channelId: string,
  lock: 'update' | null = null,
): Promise<{ row: ChannelWithMembershipRow; snapshot: ChannelSnapshot; membership: ViewerMembership | null } | null> {
  if (!isUuid(channelId)) return null;
  const rows = await em.execute<ChannelWithMembershipRow[]>(
    `select ${CHANNEL_COLUMNS}, m.role as member_role, m.last_read_seq as member_last_read_seq
       from channels c left join memberships m on m.channel_id = c.id and m.user_id = ?
      where c.id = ?${lock ? ` for ${lock} of c` : ''}`,
    [viewerId, channelId],
  );
  const row = rows[0];
  if (!row || !isVisible(row)) return null;
  return { row, snapshot: rowSnapshot(row), membership: rowMembership(row) };
}

export async function requireChannelForViewer(em: EntityManager, viewerId: string, channelId: string, lock: 'update' | null = null) {
  const found = await findChannelForViewer(em, viewerId, channelId, lock);
  if (!found) throw new NotFoundError('Channel');
  return found;
}

export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  bio: string | null;
  email: string;
  created_at: Date;
}

export const USER_COLUMNS = 'u.id, u.username, u.display_name, u.bio, u.email, u.created_at';

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

export async function findUserSnapshot(em: EntityManager, userId: string): Promise<UserSnapshot | null> {
  if (!isUuid(userId)) return null;
  const rows = await em.execute<UserRow[]>(`select ${USER_COLUMNS} from users u where u.id = ?`, [userId]);
  return rows[0] ? userRowSnapshot(rows[0]) : null;
}

// ---- Input rules ----

export const CHANNEL_NAME_PATTERN = /^[a-z0-9_-]{1,64}$/;
export const MAX_DESCRIPTION_LENGTH = 500;

/** Trims and lowercases, then validates: 1-64 of a-z, 0-9, `-`, `_`. */
export function normalizeChannelName(input: unknown): string {
  const name = typeof input === 'string' ? input.trim().toLowerCase() : '';
  if (!CHANNEL_NAME_PATTERN.test(name)) {
    throw new BadUserInputError('name', 'A channel name is 1-64 characters: lowercase letters, digits, "-" and "_".');
  }
  return name;
}

/** Trimmed; empty means none. At most 500 characters. */
export function normalizeDescription(input: string | null | undefined): string | null {
  if (input === null || input === undefined) return null;
  const description = input.trim();
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw new BadUserInputError('description', `A description is at most ${MAX_DESCRIPTION_LENGTH} characters.`);
  }
  // PostgreSQL text cannot hold NUL: refuse it here rather than fail in SQL.
  if (description.includes('\u0000')) throw new BadUserInputError('description', 'A description must not contain NUL characters.');
  return description.length > 0 ? description : null;
}

/** `%`, `_` and `\` match literally inside a LIKE pattern (with `escape '\'`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
