// Message rows read and written with plain SQL (the hot paths: history, sends, replay) and
// their conversion to the snapshots resolvers and events use.
import type { MessageSnapshot, UserSnapshot } from '../domain/snapshots';

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
}

/** The columns every message query selects, qualified with the alias `m`. */
export const MESSAGE_COLUMNS = 'm.id, m.channel_id, m.seq, m.author_id, m.body, m.created_at, m.edited_at, m.deleted_at, m.upvotes, m.downvotes';

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
  };
}
