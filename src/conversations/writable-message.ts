// The checks reactions and pins share before they write: the message must be readable by the
// viewer (NOT_FOUND otherwise), the viewer must be allowed to send in its channel (FORBIDDEN:
// not a member, banned, timed out) and it must not be deleted (NOT_FOUND: a deleted message
// takes no reactions or pins).
import type { UserDirectory } from '../accounts/user.loader';
import type { ChannelAccessControl } from '../channels/access';
import { eventUser, type MessageSnapshot } from '../domain/snapshots';
import { findMessage, withAuthor } from '../messages/message.queries';
import { requireNotMuted } from '../messages/message.service';
import type { RequestScope } from '../shared/context';
import { NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { SqlPool } from '../shared/sql';

export interface MessageWriteDeps {
  sql: SqlPool;
  access: ChannelAccessControl;
  users: UserDirectory;
}

/** The message the viewer may react to or pin (see the file comment for the codes). */
export async function requireWritableMessage(deps: MessageWriteDeps, viewerId: string, messageId: string): Promise<MessageSnapshot> {
  if (!isUuid(messageId)) throw new NotFoundError('Message');
  const message = await findMessage(deps.sql, messageId.toLowerCase());
  if (!message) throw new NotFoundError('Message');
  const access = await deps.access.findVisible(viewerId, message.channelId);
  if (!access) throw new NotFoundError('Message');
  // PUBLIC channel not joined (or banned, which removes the membership): FORBIDDEN.
  requireNotMuted(await deps.access.requireMember(viewerId, message.channelId));
  if (message.deleted) throw new NotFoundError('Message');
  return message;
}

/** The message with its author, as mutation answers and events carry it (no email). */
export async function withEventAuthor(deps: MessageWriteDeps, scope: RequestScope, message: MessageSnapshot): Promise<MessageSnapshot> {
  const author = await deps.users.load(scope, message.authorId);
  return withAuthor(message, author ? eventUser(author) : undefined);
}
