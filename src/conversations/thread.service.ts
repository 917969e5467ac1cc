import type { UserDirectory } from '../accounts/user.loader';
import type { ChannelAccess, ChannelAccessControl } from '../channels/access';
import type { ChannelLoaders } from '../channels/channel.loader';
import type { MessageSnapshot, UserSnapshot } from '../domain/snapshots';
import { eventUser } from '../domain/snapshots';
import { Topic } from '../domain/topics';
import * as messageQueries from '../messages/message.queries';
import { type HistoryArgs, listPage, parseHistoryArgs, withPageAuthors } from '../messages/message.service';
import type { EventBus } from '../realtime/event-bus';
import { type RequestScope, requireViewer } from '../shared/context';
import { BadUserInputError, NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import { type Connection, connectionOf, decodeCursor, pageSize } from '../shared/relay';
import type { SqlPool } from '../shared/sql';
import * as queries from './thread.queries';
import { THREAD_CURSOR, threadCursor, type ThreadView } from './thread.types';

/** Thread.participants holds at most this many repliers. */
export const MAX_THREAD_PARTICIPANTS = 5;

export interface ThreadDeps {
  sql: SqlPool;
  access: ChannelAccessControl;
  channelLoaders: ChannelLoaders;
  users: UserDirectory;
  bus: EventBus;
}

/**
 * Threads: their summaries, replies, followers and read markers. Replies are sent through the
 * messages' send path (sendMessage with threadId: send_messages keeps the summary, the
 * participants and the followers in the reply's transaction); this service reads them and owns
 * following and reading.
 */
export class ThreadService {
  constructor(private readonly deps: ThreadDeps) {}

  // ---- per-request loaders (one statement for a whole page of messages) ----

  /** The thread of each root id, null when it has none. */
  summaries(scope: RequestScope) {
    return scope.loaders.get<string, queries.ThreadSummary | null>('threads:summary', async (rootIds) => {
      const byId = new Map((await queries.threadSummaries(this.deps.sql, rootIds)).map((summary) => [summary.rootId, summary]));
      return rootIds.map((id) => byId.get(id) ?? null);
    });
  }

  /** Up to five repliers per thread, the one with the newest reply first. */
  participants(scope: RequestScope) {
    return scope.loaders.get<string, UserSnapshot[]>('threads:participants', async (rootIds) => {
      const rows = await queries.threadParticipants(this.deps.sql, rootIds, MAX_THREAD_PARTICIPANTS);
      const users = new Map((await this.deps.users.loadMany(scope, [...new Set(rows.map((row) => row.userId))])).map((user) => [user.id, user]));
      const byRoot = new Map<string, UserSnapshot[]>(rootIds.map((id) => [id, []]));
      for (const row of rows) {
        const user = users.get(row.userId);
        if (user) byRoot.get(row.rootId)?.push(user);
      }
      return rootIds.map((id) => byRoot.get(id) ?? []);
    });
  }

  /** Whether the viewer follows each thread and how many of its replies they have not read. */
  viewerStates(scope: RequestScope) {
    const viewerId = scope.viewer?.userId ?? null;
    return scope.loaders.get<string, { following: boolean; unread: number }>(`threads:viewer:${viewerId}`, async (rootIds) => {
      if (!viewerId) return rootIds.map(() => ({ following: false, unread: 0 }));
      const byId = new Map((await queries.viewerThreadStates(this.deps.sql, viewerId, rootIds)).map((state) => [state.rootId, state]));
      return rootIds.map((id) => byId.get(id) ?? { following: false, unread: 0 });
    });
  }

  /** A message's thread: null for a reply and for a message without replies or followers. */
  async threadOf(scope: RequestScope, message: MessageSnapshot): Promise<ThreadView | null> {
    if (message.threadRootId) return null;
    const summary = await this.summaries(scope).load(message.id);
    return summary ? { ...summary, root: message } : null;
  }

  // ---- queries ----

  /** A thread's replies, paged exactly as channel history (`messages`). Any message of the thread names it. */
  async replies(scope: RequestScope, messageId: string, args: HistoryArgs): Promise<Connection<MessageSnapshot>> {
    const viewerId = requireViewer(scope).userId;
    const page = parseHistoryArgs(args);
    // Clients name the root (it is what carries `thread`): its page is read beside the lookup
    // and access check of the message, and dropped unread when they fail or name a reply.
    const guessedRootId = isUuid(messageId) ? messageId.toLowerCase() : null;
    const guessed = guessedRootId ? listPage(this.deps.sql, { threadRootId: guessedRootId }, page) : null;
    guessed?.catch(() => undefined);
    const { message, access } = await this.requireVisibleMessage(viewerId, messageId);
    // Every reply is of the root's channel: Message.channel needs no query.
    this.deps.channelLoaders.prime(scope, access);
    const rootId = message.threadRootId ?? message.id;
    return withPageAuthors(this.deps.users, scope, await (guessed && rootId === guessedRootId ? guessed : listPage(this.deps.sql, { threadRootId: rootId }, page)));
  }

  /** The threads the viewer follows, the one with the newest reply first. */
  async followed(scope: RequestScope, args: { first?: number | null; after?: string | null }): Promise<Connection<ThreadView>> {
    const viewerId = requireViewer(scope).userId;
    const size = pageSize(args.first, 'first');
    const after = args.after != null ? decodeThreadCursor(args.after) : null;
    const rows = await queries.followedThreads(this.deps.sql, viewerId, after, size + 1);
    const page = rows.slice(0, size);
    return connectionOf(
      page.map((row) => ({ cursor: threadCursor(row.activityMicros, row.summary.rootId), node: { ...row.summary, root: row.root } })),
      { hasNextPage: rows.length > size, hasPreviousPage: after !== null },
    );
  }

  // ---- writes ----

  /**
   * Follows or unfollows the thread of a message (of its root, for a reply). Following gives
   * a message without one its thread (reaching channelEvents as MessageUpdated of the root).
   */
  async setFollowing(scope: RequestScope, messageId: string, follow: boolean): Promise<MessageSnapshot> {
    const viewerId = requireViewer(scope).userId;
    const { root } = await this.requireVisibleRoot(viewerId, messageId);
    if (!follow) {
      await queries.removeFollower(this.deps.sql, root.id, viewerId);
      return root;
    }
    if (root.deleted) throw new NotFoundError('Message');
    const created = await this.deps.sql.transaction(async (tx) => {
      const isNew = await queries.createThread(tx, root.id, root.channelId);
      await queries.addFollowers(tx, root.id, [viewerId]);
      return isNew;
    });
    if (created) await this.deps.bus.publish(Topic.channel(root.channelId), { type: 'MessageUpdated', message: root });
    return root;
  }

  /** Moves the viewer's read marker in the thread to its newest reply. */
  async markRead(scope: RequestScope, messageId: string): Promise<MessageSnapshot> {
    const viewerId = requireViewer(scope).userId;
    const { root } = await this.requireVisibleRoot(viewerId, messageId);
    await queries.markThreadRead(this.deps.sql, root.id, viewerId);
    return root;
  }

  /**
   * The hook for other features (mentions in a thread): these users follow the thread of a
   * root message, which gets its thread if it had none. Their read markers stay. The caller
   * has checked that they may read the channel.
   */
  async followThread(rootId: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const root = await messageQueries.findMessage(this.deps.sql, rootId);
    if (!root || root.threadRootId) throw new BadUserInputError('messageId', 'Only a root message has a thread.');
    await this.deps.sql.transaction(async (tx) => {
      await queries.createThread(tx, root.id, root.channelId);
      await queries.addFollowers(tx, root.id, userIds);
    });
  }

  /** The message and its channel as the viewer may read it; NOT_FOUND when unknown or unreadable. */
  private async requireVisibleMessage(viewerId: string, messageId: string): Promise<{ message: MessageSnapshot; access: ChannelAccess }> {
    if (!isUuid(messageId)) throw new NotFoundError('Message');
    const message = await messageQueries.findMessage(this.deps.sql, messageId.toLowerCase());
    if (!message) throw new NotFoundError('Message');
    const access = await this.deps.access.findVisible(viewerId, message.channelId);
    if (!access) throw new NotFoundError('Message');
    return { message, access };
  }

  /** The root of the message's thread (the message itself unless it is a reply) with its author; NOT_FOUND when unknown or unreadable. */
  private async requireVisibleRoot(viewerId: string, messageId: string): Promise<{ root: MessageSnapshot; access: ChannelAccess }> {
    const { message, access } = await this.requireVisibleMessage(viewerId, messageId);
    const [root] = await messageQueries.messagesWithAuthors(this.deps.sql, [message.threadRootId ?? message.id]);
    if (!root) throw new NotFoundError('Message');
    return { root: root.author ? { ...root, author: eventUser(root.author) } : root, access };
  }
}

function decodeThreadCursor(cursor: string): { micros: string; rootId: string } {
  const payload = decodeCursor(THREAD_CURSOR, cursor, 'after');
  const match = /^(-?\d{1,20}):([0-9a-f-]{36})$/.exec(payload);
  if (!match || !isUuid(match[2])) throw new BadUserInputError('after', 'after is not a valid cursor.');
  return { micros: match[1], rootId: match[2] };
}
