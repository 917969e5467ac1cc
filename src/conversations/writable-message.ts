// The checks reactions and pins share before they write: the message must be readable by the
// viewer (NOT_FOUND otherwise), the viewer must be allowed to send in its channel (FORBIDDEN:
// not a member, banned, timed out) and it must not be deleted (NOT_FOUND: a deleted message
// takes no reactions or pins).
import { requireJoined, type ChannelAccessControl } from '../channels/access';
import type { MessageSnapshot } from '../domain/snapshots';
import { authoredMessagesByIds } from '../messages/message.queries';
import { requireNotMuted } from '../messages/message.service';
import { NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { SqlPool } from '../shared/sql';

export interface MessageWriteDeps {
  sql: SqlPool;
  access: ChannelAccessControl;
}

/**
 * Messages with their authors, as mutation answers and events carry them: the lookups of
 * concurrent requests share one statement (a hot message's reactions arrive all at once).
 */
export function authoredMessageLoader(sql: SqlPool) {
  return sql.batchLoader<string, MessageSnapshot | null>('messages_by_ids_authored', (ids) => authoredMessagesByIds(sql, ids));
}

/** The message (with its author) the viewer may react to or pin (see the file comment for the codes). */
export async function requireWritableMessage(deps: MessageWriteDeps, viewerId: string, messageId: string): Promise<MessageSnapshot> {
  if (!isUuid(messageId)) throw new NotFoundError('Message');
  const message = await authoredMessageLoader(deps.sql).load(messageId.toLowerCase());
  if (!message) throw new NotFoundError('Message');
  const access = await deps.access.findVisible(viewerId, message.channelId);
  if (!access) throw new NotFoundError('Message');
  // PUBLIC channel not joined (or banned, which removes the membership): FORBIDDEN.
  requireNotMuted(requireJoined(access));
  if (message.deleted) throw new NotFoundError('Message');
  return message;
}
