import type { UserDirectory } from '../accounts/user.loader';
import type { ChannelAccessControl } from '../channels/access';
import type { ChannelHooks } from '../channels/channel.service';
import type { ChannelSnapshot, MessageSnapshot, NotificationSnapshot, UserSnapshot } from '../domain/snapshots';
import { type ChannelTopicEvent, type NotificationTopicEvent, Topic } from '../domain/topics';
import type { MessageHooks } from '../messages/message.service';
import type { AfterCommit, SendStatementPart } from '../messages/send-batcher';
import type { EventBus, Unsubscribe } from '../realtime/event-bus';
import { EventStream } from '../realtime/event-stream';
import { type RequestScope, requireViewer } from '../shared/context';
import { BadUserInputError, NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { Logger } from '../shared/logger';
import { type Connection, connectionOf, decodeCursor, encodeCursor, pageSize } from '../shared/relay';
import type { SqlClient, SqlPool } from '../shared/sql';
import { NotificationLevel } from './attention.entity';
import * as queries from './attention.queries';
import { hasMentions, NO_MENTIONS, type ParsedMentions, parseMentions } from './mentions';

/** Who is online (the realtime engine's presence), for `@here`. */
export interface OnlineLookup {
  areOnline(userIds: readonly string[]): Promise<boolean[]>;
}

export interface AttentionDeps {
  sql: SqlPool;
  bus: EventBus;
  access: ChannelAccessControl;
  users: UserDirectory;
  presence: OnlineLookup;
  logger: Logger;
  /** MessagesSeen of one member and channel go out at most once per this many ms (the latest marker wins). */
  seenWindowMs?: number;
}

/** markNotificationsRead takes at most this many ids. */
export const MAX_MARK_IDS = 100;
export const DEFAULT_SEEN_WINDOW_MS = 250;
const NOTIFICATION_CURSOR = 'notification';
const READER_CURSOR = 'reader';

/** What a send or an edit carries from before its transaction into it. */
interface Prepared {
  mentions: ParsedMentions;
  /** `@here`: the members online before the send. */
  online: string[];
}

/** The level a user has in a channel without having chosen one. */
export function defaultLevel(kind: ChannelSnapshot['kind']): NotificationLevel {
  return kind === 'DIRECT' ? NotificationLevel.ALL : NotificationLevel.MENTIONS;
}

/**
 * Mentions, notifications, notification levels and read receipts. Writes along with the
 * messages feature (MessageHooks: in the send batch's, the edit's and the deletion's
 * transaction) and the channels feature (ChannelHooks: memberships ending, read markers
 * moving); deliveries go out after commit.
 */
export class AttentionService implements MessageHooks, ChannelHooks {
  private readonly sql: SqlPool;
  /** MessagesSeen coalescing on this instance: per `channel|user`, the marker waiting for the window to end. */
  private readonly seenWindows = new Map<string, { timer: NodeJS.Timeout; pending: { channel: ChannelSnapshot; seq: number } | null }>();
  private readonly seenWindowMs: number;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: AttentionDeps) {
    this.sql = deps.sql;
    this.seenWindowMs = deps.seenWindowMs ?? DEFAULT_SEEN_WINDOW_MS;
  }

  // ---- mentions on send, edit and deletion (MessageHooks) ----

  async prepareSend(channelId: string, body: string): Promise<Prepared | null> {
    return this.prepare(channelId, body, null);
  }

  /** An edit of a body without mentions into one without: nothing to do (`unchanged`). */
  async prepareEdit(message: MessageSnapshot, body: string): Promise<Prepared | null | 'unchanged'> {
    const prepared = await this.prepare(message.channelId, body, message.authorId);
    if (!prepared && (message.body === null || !hasMentions(parseMentions(message.body)))) return 'unchanged';
    return prepared;
  }

  private async prepare(channelId: string, body: string, authorId: string | null): Promise<Prepared | null> {
    const mentions = parseMentions(body);
    if (!hasMentions(mentions)) return null;
    let online: string[] = [];
    if (mentions.here) {
      const members = await queries.memberIds(this.sql, channelId);
      const states = members.length > 0 ? await this.deps.presence.areOnline(members) : [];
      online = members.filter((id, index) => states[index] && id !== authorId);
    }
    return { mentions, online };
  }

  /**
   * A batch without mentions: its notifications inside the send statement itself (nothing
   * has to be stored before them). With mentions: null, and `stored` runs in a transaction.
   */
  storedInStatement(prepared: readonly unknown[]): SendStatementPart | null {
    if (prepared.some(Boolean)) return null;
    return {
      name: 'send_messages_notified',
      ctes: queries.sendNotificationsCtes,
      stored: (rows, created) => {
        const messages = new Map(created.map((message) => [message.id, message]));
        return () => this.deliver((rows as queries.NotifiedRow[]).map(queries.notifiedRow), messages);
      },
    };
  }

  /** In the send batch's transaction: its mentions, then its notifications in one statement. */
  async stored(tx: SqlClient, channelId: string, created: ReadonlyArray<{ message: MessageSnapshot; prepared: unknown }>): Promise<AfterCommit> {
    const mentioning = created.filter((one) => one.prepared);
    if (mentioning.length > 0) {
      await queries.storeMentions(tx, mentionRows(mentioning.map((one) => ({ message: one.message, prepared: one.prepared as Prepared }))));
      await queries.followMentionedThreads(tx, mentioning.map((one) => one.message.id));
    }
    const rows = await queries.insertSendNotifications(
      tx,
      channelId,
      created.map((one) => ({ id: one.message.id, authorId: one.message.authorId, threadRootId: one.message.threadRootId ?? null })),
    );
    if (rows.length === 0) return null;
    const messages = new Map(created.map((one) => [one.message.id, one.message]));
    return () => this.deliver(rows, messages);
  }

  async edited(tx: SqlClient, message: MessageSnapshot, prepared: unknown): Promise<AfterCommit> {
    if (prepared === 'unchanged') return null;
    const before = await queries.mentionedUserIds(tx, message.id, message.channelId);
    await queries.deleteMentions(tx, message.id);
    if (!prepared) return null;
    // Authors are added by the caller's snapshot (afterUpdate); the delivery loads the message whole.
    await queries.storeMentions(tx, mentionRows([{ message, prepared: prepared as Prepared }]));
    await queries.followMentionedThreads(tx, [message.id]);
    const rows = await queries.insertEditNotifications(tx, message, before);
    if (rows.length === 0) return null;
    return async () => {
      const author = await this.deps.users.find(this.sql, message.authorId);
      await this.deliver(rows, new Map([[message.id, { ...message, author: author ? { ...author, email: null } : undefined }]]));
    };
  }

  async deleted(tx: SqlClient, message: MessageSnapshot): Promise<AfterCommit> {
    await queries.deleteMessageNotifications(tx, message.id);
    await queries.deleteMentions(tx, message.id);
    return null;
  }

  /** Each new notification to its user's topic, on every instance. */
  private async deliver(rows: queries.CreatedNotificationRow[], messages: Map<string, MessageSnapshot>): Promise<void> {
    await Promise.all(
      rows.map((row) => {
        const message = messages.get(row.message_id);
        if (!message) return undefined;
        const event: NotificationTopicEvent = {
          type: 'NotificationCreated',
          notification: { id: row.id, userId: row.user_id, kind: row.kind, message, createdAt: row.created_at, read: false },
        };
        return this.deps.bus.publish(Topic.notifications(row.user_id), event).catch((error: Error) => {
          this.deps.logger.warn({ err: error.message }, 'notification delivery failed');
        });
      }),
    );
  }

  // ---- memberships and read markers (ChannelHooks) ----

  async memberRemoved(tx: SqlClient, channel: ChannelSnapshot, userId: string): Promise<void> {
    // Anyone may read a PUBLIC channel: its notifications stay readable.
    await queries.forgetMembership(tx, channel.id, userId, channel.kind === 'PUBLIC');
  }

  /**
   * A marker moved forward: MessagesSeen goes out at once unless one of this member and
   * channel went out within the window; then the newest marker goes out when it ends. A
   * client scrolling through history so sends at most 1000 / seenWindowMs events a second.
   */
  readMarkerMoved(userId: string, channel: ChannelSnapshot, seq: number): void {
    const key = `${channel.id}|${userId}`;
    const open = this.seenWindows.get(key);
    if (open) {
      if (!open.pending || open.pending.seq < seq) open.pending = { channel, seq };
      return;
    }
    this.openSeenWindow(key, userId);
    this.track(this.publishSeen(userId, channel, seq));
  }

  private openSeenWindow(key: string, userId: string): void {
    const timer = setTimeout(() => {
      const window = this.seenWindows.get(key);
      this.seenWindows.delete(key);
      if (!window?.pending) return;
      this.openSeenWindow(key, userId);
      this.track(this.publishSeen(userId, window.pending.channel, window.pending.seq));
    }, this.seenWindowMs);
    timer.unref();
    this.seenWindows.set(key, { timer, pending: null });
  }

  private async publishSeen(userId: string, channel: ChannelSnapshot, seq: number): Promise<void> {
    try {
      const parts = await queries.seenEventParts(this.sql, userId, channel.id, seq);
      if (!parts) return;
      const event: ChannelTopicEvent = { type: 'MessagesSeen', channel, user: parts.user, lastRead: parts.message };
      await this.deps.bus.publish(Topic.channel(channel.id), event);
    } catch (error) {
      this.deps.logger.warn({ channelId: channel.id, err: (error as Error).message }, 'MessagesSeen failed');
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Resolves once the MessagesSeen events under way have gone out; pending windows are dropped (shutdown). */
  async close(): Promise<void> {
    for (const window of this.seenWindows.values()) clearTimeout(window.timer);
    this.seenWindows.clear();
    await Promise.all([...this.inFlight]);
  }

  // ---- notifications ----

  async notifications(
    scope: RequestScope,
    { unreadOnly, first, after }: { unreadOnly?: boolean | null; first?: number | null; after?: string | null },
  ): Promise<Connection<NotificationSnapshot>> {
    const viewerId = requireViewer(scope).userId;
    const limit = pageSize(first, 'first');
    const position = after === null || after === undefined ? null : decodeKey(NOTIFICATION_CURSOR, after, 'after');
    const rows = await queries.notificationPage(this.sql, viewerId, {
      unreadOnly: unreadOnly === true,
      after: position ? { createdAt: position[0], id: position[1] } : null,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return connectionOf(
      page.map((row) => ({ cursor: encodeKey(NOTIFICATION_CURSOR, row.key.createdAt, row.key.id), node: row.notification })),
      { hasNextPage: rows.length > limit, hasPreviousPage: position !== null },
    );
  }

  unreadCount(scope: RequestScope): Promise<number> {
    return queries.unreadNotificationCount(this.sql, requireViewer(scope).userId);
  }

  /**
   * Marks the viewer's notifications read: the given ones (all must be the viewer's, else
   * NOT_FOUND and nothing changes; someone else's look exactly like ids that do not exist),
   * or every one. Returns how many changed (already read ones do not count).
   */
  async markRead(scope: RequestScope, ids: readonly string[] | null | undefined): Promise<number> {
    const viewerId = requireViewer(scope).userId;
    if (ids === null || ids === undefined) return queries.markAllNotificationsRead(this.sql, viewerId);
    if (ids.length > MAX_MARK_IDS) throw new BadUserInputError('ids', `Give at most ${MAX_MARK_IDS} ids.`);
    if (ids.length === 0) return 0;
    if (!ids.every(isUuid)) throw new NotFoundError('Notification');
    const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
    const { found, changed } = await queries.markNotificationsRead(this.sql, viewerId, unique);
    if (found !== unique.length) throw new NotFoundError('Notification');
    return changed;
  }

  /** A live stream of the viewer's new notifications (from every instance, through the bus). */
  async notificationStream(scope: RequestScope): Promise<AsyncIterableIterator<NotificationSnapshot>> {
    const viewerId = requireViewer(scope).userId;
    const stream = new EventStream<NotificationSnapshot>();
    let unsubscribe: Unsubscribe | null = null;
    stream.onClose(() => unsubscribe?.());
    unsubscribe = await this.deps.bus.listen<NotificationTopicEvent>(Topic.notifications(viewerId), (event) => {
      if (event.type === 'NotificationCreated' && !stream.isClosed) stream.push(event.notification);
    });
    if (stream.isClosed) unsubscribe();
    return stream;
  }

  // ---- levels ----

  /** The viewer's level in a channel they are a member of (NOT_FOUND when invisible, FORBIDDEN for a PUBLIC one not joined). */
  async setLevel(scope: RequestScope, channelId: string, level: NotificationLevel): Promise<ChannelSnapshot> {
    const viewerId = requireViewer(scope).userId;
    const { channel } = await this.deps.access.requireMember(viewerId, channelId);
    await queries.storeLevel(this.sql, viewerId, channel.id, level);
    this.levels(scope).clear(channel.id);
    return channel;
  }

  /** The viewer's level per channel: one query for a page of channels. */
  levelOf(scope: RequestScope, channel: ChannelSnapshot): Promise<NotificationLevel> {
    if (!scope.viewer) return Promise.resolve(defaultLevel(channel.kind));
    return this.levels(scope)
      .load(channel.id)
      .then((stored) => stored ?? defaultLevel(channel.kind));
  }

  private levels(scope: RequestScope) {
    const viewerId = scope.viewer?.userId ?? '';
    return scope.loaders.get<string, NotificationLevel | null>(`attention:levels:${viewerId}`, async (channelIds) => {
      const stored = await queries.storedLevels(this.sql, viewerId, channelIds);
      return channelIds.map((id) => stored.get(id) ?? null);
    });
  }

  // ---- message fields ----

  /** Users mentioned by @username who can read the channel, in order of first mention. */
  mentionsOf(scope: RequestScope, message: MessageSnapshot): Promise<UserSnapshot[]> {
    if (message.body === null || parseMentions(message.body).named.length === 0) return Promise.resolve([]);
    return scope.loaders
      .get<string, UserSnapshot[]>('attention:mentions', async (ids) => {
        const found = await queries.mentionsOf(this.sql, ids);
        return ids.map((id) => found.get(id) ?? []);
      })
      .load(message.id);
  }

  /** Whether the message mentions the viewer by name, @here (they were online) or @channel. */
  mentionsViewer(scope: RequestScope, message: MessageSnapshot): Promise<boolean> {
    const viewerId = scope.viewer?.userId;
    if (!viewerId || message.body === null || parseMentions(message.body) === NO_MENTIONS) return Promise.resolve(false);
    return scope.loaders
      .get<string, boolean>(`attention:mentionsMe:${viewerId}`, async (ids) => {
        const found = await queries.messagesMentioning(this.sql, viewerId, ids);
        return ids.map((id) => found.has(id));
      })
      .load(message.id);
  }

  /** Members other than the author whose read marker is at or past the message and who share receipts, newest reader first. */
  async seenBy(_scope: RequestScope, message: MessageSnapshot, first: number | null | undefined, after: string | null | undefined): Promise<Connection<UserSnapshot>> {
    const limit = pageSize(first, 'first');
    const position = after === null || after === undefined ? null : decodeKey(READER_CURSOR, after, 'after');
    const rows = await queries.readersOf(this.sql, message, position ? { readAt: position[0], userId: position[1] } : null, limit + 1);
    const page = rows.slice(0, limit);
    return connectionOf(
      page.map((row) => ({ cursor: encodeKey(READER_CURSOR, row.key.readAt, row.key.userId), node: row.user })),
      { hasNextPage: rows.length > limit, hasPreviousPage: position !== null },
    );
  }

  /** The user's own read-receipt setting; null for anyone else. */
  async shareReadReceipts(scope: RequestScope, user: UserSnapshot): Promise<boolean | null> {
    if (scope.viewer?.userId !== user.id) return null;
    const found = await queries.sharesReadReceipts(this.sql, [user.id]);
    return found.get(user.id) ?? true;
  }
}

/** The rows storeMentions writes for these messages. */
function mentionRows(messages: ReadonlyArray<{ message: MessageSnapshot; prepared: Prepared }>): queries.MentionRows {
  const rows: queries.MentionRows = { named: { messageIds: [], keys: [], ords: [], preferences: [] }, here: { messageIds: [], userIds: [] }, channel: [] };
  for (const { message, prepared } of messages) {
    for (const mention of prepared.mentions.named) {
      mention.keys.forEach((key, preference) => {
        rows.named.messageIds.push(message.id);
        rows.named.keys.push(key);
        rows.named.ords.push(mention.ord);
        rows.named.preferences.push(preference);
      });
    }
    for (const userId of prepared.online) {
      if (userId === message.authorId) continue;
      rows.here.messageIds.push(message.id);
      rows.here.userIds.push(userId);
    }
    if (prepared.mentions.channel) rows.channel.push(message.id);
  }
  return rows;
}

/** A timestamptz as PostgreSQL prints it (the cursors carry it exact, to the microsecond). */
const TIMESTAMP_TEXT = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/** A keyset cursor of two parts (a PostgreSQL timestamp as text, a uuid). */
function encodeKey(kind: string, time: string, id: string): string {
  return encodeCursor(kind, `${time}|${id}`);
}

function decodeKey(kind: string, cursor: string, field: string): [string, string] {
  const value = decodeCursor(kind, cursor, field);
  const split = value.lastIndexOf('|');
  const time = value.slice(0, split);
  const id = value.slice(split + 1);
  if (split < 1 || !isUuid(id) || !(time === '-infinity' || TIMESTAMP_TEXT.test(time))) throw new BadUserInputError(field, `${field} is not a valid cursor.`);
  return [time, id];
}
