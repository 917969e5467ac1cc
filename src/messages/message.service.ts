import { LockMode } from '@mikro-orm/core';
import type { Services } from '../services';
import type { RequestContext } from '../shared/context';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import { type Connection, decodeIntCursor, pageSize } from '../shared/relay';
import type { ChannelSnapshot, MessageSnapshot, UserSnapshot } from '../realtime/snapshots';
import type { SqlPool } from '../shared/sql';
import { AUTHOR_COLUMNS, type AuthoredMessageRow, MESSAGE_COLUMNS, type MessageRow, messageRowSnapshot, rowAuthor, withAuthor } from './message.rows';
import { Topic } from '../realtime/topics';
import { ActivityAction, recordActivity } from '../accounts/activity';
import { userLoader } from '../accounts/user.loader';
import { type ChannelAccess, findVisibleChannel, requireMembership, requireVisibleChannel } from '../channels/access';
import { membershipLoader, visibleChannelLoader } from '../channels/channel.loader';
import { Message } from './message.entity';
import { myVoteLoader } from './message.loaders';
import { messageCursor, MESSAGE_CURSOR, messageSnapshot, type SendMessageInput, VoteValue, voteNumber } from './message.types';
import { SendBatcher } from './send-batcher';
import { MemoryRecentCache, RECENT_LIMIT, type RecentMessagesCache, type RecentWindow, RedisRecentCache } from './recent-cache';

export const MAX_BODY_LENGTH = 4000;
export const MAX_CLIENT_MESSAGE_ID_LENGTH = 128;

export interface HistoryArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** A message body: trimmed, 1-4000 characters, no NUL. */
export function validateBody(raw: string): string {
  const body = typeof raw === 'string' ? raw.trim() : '';
  if (body.length === 0) throw new BadUserInputError('body', 'The message must not be empty.');
  if (body.length > MAX_BODY_LENGTH) throw new BadUserInputError('body', `The message must be at most ${MAX_BODY_LENGTH} characters.`);
  if (body.includes('\u0000')) throw new BadUserInputError('body', 'The message must not contain NUL characters.');
  return body;
}

function validateClientMessageId(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  if (raw.length < 1 || raw.length > MAX_CLIENT_MESSAGE_ID_LENGTH || raw.includes('\u0000')) {
    throw new BadUserInputError('clientMessageId', `clientMessageId must be 1-${MAX_CLIENT_MESSAGE_ID_LENGTH} characters.`);
  }
  return raw;
}

/** Sending, editing, deleting, voting, history and the recent-messages cache. */
export class MessageService {
  /** The newest messages per channel: Redis when configured, else this process's memory. */
  readonly recentCache: RecentMessagesCache;
  private readonly batcher: SendBatcher;

  constructor(private readonly services: Services) {
    this.recentCache = services.redis
      ? new RedisRecentCache(services.redis.command, services.config.redisKeyPrefix, services.logger)
      : new MemoryRecentCache();
    this.batcher = new SendBatcher(services.sql, (messages) => this.afterSends(messages));
  }

  /** Calls `listener` with the size of every committed send batch (for /metrics). */
  onSendBatch(listener: (size: number) => void): () => void {
    return this.batcher.onBatch(listener);
  }

  /** Resolves once the cache updates and events of every committed send have gone out. */
  settled(): Promise<void> {
    return this.batcher.settled();
  }

  // ---- writes -------------------------------------------------------------------------

  /**
   * Stores a message with the channel's next sequence number. The channel row lock taken by
   * the `last_seq` increment orders concurrent senders, so seqs are gapless in commit order.
   * A repeated clientMessageId returns the first message and stores (and publishes) nothing.
   */
  async send(viewerId: string, input: SendMessageInput): Promise<MessageSnapshot> {
    const body = validateBody(input.body);
    const clientMessageId = validateClientMessageId(input.clientMessageId);
    await this.services.throttle.check('sendMessage', viewerId);
    if (!isUuid(input.channelId)) throw new NotFoundError('Channel');
    // Group commit (send-batcher.ts): membership and repeated clientMessageIds are checked
    // under the channel's lock, in the same statement as the insert.
    const { message } = await this.batcher.send(input.channelId.toLowerCase(), { authorId: viewerId, body, clientMessageId });
    return message;
  }

  /**
   * After a batch of sends commits: the events, in seq order, then the cache. Both go out in
   * this turn on the one command connection (pipelined), events first, since subscribers wait
   * for them; readers use the cache only once it reaches the newest committed seq anyway.
   */
  private async afterSends(messages: MessageSnapshot[]): Promise<void> {
    // One batch is one channel's: its events go out as one message.
    const published = this.services.bus.publishAll(Topic.channel(messages[0].channelId), messages.map((message) => ({ type: 'MessageAdded', message })));
    await Promise.all([published, this.recentCache.appendAll(messages)]);
  }

  /** The author edits a (not deleted) message. */
  async edit(ctx: RequestContext, viewerId: string, messageId: string, rawBody: string): Promise<MessageSnapshot> {
    const body = validateBody(rawBody);
    const { message } = await this.requireVisibleMessage(ctx, viewerId, messageId);
    if (message.deletedAt) throw new NotFoundError('Message');
    if (message.author.id !== viewerId) throw new ForbiddenError('Only the author can edit a message.');
    const edited = await ctx.em.transactional(async (tx) => {
      const locked = await tx.findOne(Message, { id: message.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!locked || locked.deletedAt) throw new NotFoundError('Message');
      locked.body = body;
      locked.editedAt = new Date();
      return locked;
    });
    return this.afterUpdate(ctx, edited, 'MessageUpdated');
  }

  /** The author or the channel owner turns the message into a tombstone. Repeating it changes nothing. */
  async delete(ctx: RequestContext, viewerId: string, messageId: string): Promise<MessageSnapshot> {
    const { message, access } = await this.requireVisibleMessage(ctx, viewerId, messageId);
    const ownerId = access.channel.ownerId;
    if (message.author.id !== viewerId && ownerId !== viewerId) {
      throw new ForbiddenError('Only the author or the channel owner can delete a message.');
    }
    const result = await ctx.em.transactional(async (tx) => {
      const locked = await tx.findOne(Message, { id: message.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!locked) throw new NotFoundError('Message');
      if (locked.deletedAt) return { message: locked, changed: false };
      locked.deletedAt = new Date();
      locked.body = null;
      recordActivity(tx, viewerId, ActivityAction.MESSAGE_DELETED, { channelId: access.channel.id, ip: ctx.ip, userAgent: ctx.userAgent });
      return { message: locked, changed: true };
    });
    if (!result.changed) return this.withAuthor(ctx, messageSnapshot(result.message));
    return this.afterUpdate(ctx, result.message, 'MessageDeleted');
  }

  /**
   * Sets, switches or clears the viewer's vote. The message row lock serializes every vote on
   * the message, so the old vote read under it is exact and the counters move by the delta.
   * Voting needs membership, like sending.
   */
  async vote(ctx: RequestContext, viewerId: string, messageId: string, value: VoteValue): Promise<MessageSnapshot> {
    const { message } = await this.requireVisibleMessage(ctx, viewerId, messageId);
    await requireMembership(ctx.sql, viewerId, message.channel.id);
    if (message.deletedAt) throw new NotFoundError('Message');
    const next = voteNumber(value);
    const result = await ctx.em.transactional(async (tx) => {
      const locked = await tx.findOne(Message, { id: message.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!locked || locked.deletedAt) throw new NotFoundError('Message');
      const [old] = await tx.execute<{ value: number }[]>('select value from votes where message_id = ? and user_id = ?', [locked.id, viewerId]);
      const previous = old ? Number(old.value) : 0;
      if (previous === next) return { message: locked, changed: false };
      if (next === 0) {
        await tx.execute('delete from votes where message_id = ? and user_id = ?', [locked.id, viewerId]);
      } else {
        await tx.execute(
          'insert into votes (message_id, user_id, value) values (?, ?, ?) on conflict (message_id, user_id) do update set value = excluded.value',
          [locked.id, viewerId, next],
        );
      }
      locked.upvotes += Number(next === 1) - Number(previous === 1);
      locked.downvotes += Number(next === -1) - Number(previous === -1);
      return { message: locked, changed: true };
    });
    // The response's myVote is the new one, whatever this request loaded before.
    myVoteLoader(ctx).clear(message.id).prime(message.id, value);
    if (!result.changed) return this.withAuthor(ctx, messageSnapshot(result.message));
    return this.afterUpdate(ctx, result.message, 'MessageUpdated');
  }

  private async afterUpdate(ctx: RequestContext, message: Message, type: 'MessageUpdated' | 'MessageDeleted'): Promise<MessageSnapshot> {
    const snapshot = await this.withAuthor(ctx, messageSnapshot(message));
    // Invalidate (bumping the version) rather than patch: two updates of one message may
    // finish in either order, and a stale patch must never win.
    await this.recentCache.invalidate(snapshot.channelId);
    await this.services.bus.publish(Topic.channel(snapshot.channelId), { type, message: snapshot });
    return snapshot;
  }

  private async withAuthor(ctx: RequestContext, snapshot: MessageSnapshot): Promise<MessageSnapshot> {
    const author = await userLoader(ctx).load(snapshot.authorId);
    // Events carry no email (the User.email resolver loads the viewer's own).
    return { ...snapshot, author: author ? { ...author, email: null } : undefined };
  }

  /** The message, if its channel is visible to the viewer; NOT_FOUND otherwise (also for malformed ids). */
  private async requireVisibleMessage(ctx: RequestContext, viewerId: string, messageId: string): Promise<{ message: Message; access: ChannelAccess }> {
    if (!isUuid(messageId)) throw new NotFoundError('Message');
    const message = await ctx.em.findOne(Message, { id: messageId });
    if (!message) throw new NotFoundError('Message');
    const access = await findVisibleChannel(ctx.sql, viewerId, message.channel.id);
    if (!access) throw new NotFoundError('Message');
    return { message, access };
  }

  // ---- history ------------------------------------------------------------------------

  /**
   * Keyset pagination over seq, oldest first within a page. `first`/`after` pages forward,
   * `last`/`before` pages back from the newest; with neither, the newest 20. Pages of the
   * newest messages come from the recent-messages cache when it is warm.
   */
  async history(ctx: RequestContext, viewerId: string, channelId: string, args: HistoryArgs, { authors = true } = {}): Promise<Connection<MessageSnapshot>> {
    if (args.first != null && args.last != null) throw new BadUserInputError('last', 'Pass either first or last, not both.');
    const forward = args.first != null || (args.last == null && args.after != null);
    const size = forward ? pageSize(args.first, 'first') : pageSize(args.last, 'last');
    const after = args.after != null ? decodeIntCursor(MESSAGE_CURSOR, args.after, 'after') : null;
    const before = args.before != null ? decodeIntCursor(MESSAGE_CURSOR, args.before, 'before') : null;

    const { channel, membership } = await requireVisibleChannel(ctx.sql, viewerId, channelId);
    // Every node of the page shares this channel: Message.channel (and its membership-based fields) need no query.
    visibleChannelLoader(ctx).prime(channel.id, channel);
    membershipLoader(ctx).prime(channel.id, membership);

    if (!forward && after === null) {
      const page = await this.historyFromCache(ctx.sql, channel, size, before);
      // Cached messages carry no author (profiles change): the page's authors are read at once.
      if (page) return authors ? this.withAuthors(ctx, page) : page;
    }
    return this.historyFromDatabase(ctx.sql, channel, forward, size, after, before);
  }

  private async withAuthors(ctx: RequestContext, page: Connection<MessageSnapshot>): Promise<Connection<MessageSnapshot>> {
    const found = await userLoader(ctx).loadMany([...new Set(page.edges.map((edge) => edge.node.authorId))]);
    const byId = new Map<string, UserSnapshot>();
    for (const author of found) if (author && !(author instanceof Error)) byId.set(author.id, author);
    return { pageInfo: page.pageInfo, edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: withAuthor(edge.node, byId.get(edge.node.authorId)) })) };
  }

  /** The newest messages as the cache (filling it when cold) answers them, or null when it cannot. */
  private async historyFromCache(sql: SqlPool, channel: ChannelSnapshot, size: number, before: number | null): Promise<Connection<MessageSnapshot> | null> {
    const cached = await this.recentCache.get(channel.id);
    // Usable only when it reaches the newest message this request saw committed.
    if (cached.window && windowMax(cached.window) >= channel.lastSeq) {
      const page = pageFromWindow(cached.window, size, before);
      if (page) return page;
      return null;
    }
    // Cold or behind: fill it, when the page lies among the newest messages anyway.
    if (before !== null && before - 1 - size < channel.lastSeq - RECENT_LIMIT) return null;
    const rows = await sql.query<MessageRow>(
      `select ${MESSAGE_COLUMNS} from messages m where m.channel_id = $1 order by m.seq desc limit $2`,
      [channel.id, RECENT_LIMIT + 1],
      'messages_newest',
    );
    const window: RecentWindow = {
      older: rows.length > RECENT_LIMIT,
      messages: rows.slice(0, RECENT_LIMIT).reverse().map((row) => messageRowSnapshot(row)),
    };
    await this.recentCache.fill(channel.id, cached.version, window);
    return pageFromWindow(window, size, before);
  }

  /**
   * A page read from PostgreSQL, with its authors (one statement). Whether messages exist
   * beyond the page follows from the channel's last_seq read in this request: seqs run
   * without gaps from 1, and messages are never removed (deletion leaves a tombstone).
   */
  private async historyFromDatabase(
    sql: SqlPool,
    channel: ChannelSnapshot,
    forward: boolean,
    size: number,
    after: number | null,
    before: number | null,
  ): Promise<Connection<MessageSnapshot>> {
    // One prepared statement per shape of the keyset condition.
    const conditions = ['m.channel_id = $1'];
    const values: unknown[] = [channel.id];
    if (after !== null) conditions.push(`m.seq > $${values.push(after)}`);
    if (before !== null) conditions.push(`m.seq < $${values.push(before)}`);
    const limit = `$${values.push(size + 1)}`;
    const order = forward ? 'asc' : 'desc';
    const rows = await sql.query<AuthoredMessageRow>(
      `select ${MESSAGE_COLUMNS}, ${AUTHOR_COLUMNS}
         from messages m join users u on u.id = m.author_id
        where ${conditions.join(' and ')} order by m.seq ${order} limit ${limit}`,
      values,
      `messages_page_${order}${after !== null ? '_after' : ''}${before !== null ? '_before' : ''}`,
    );
    const hasMore = rows.length > size;
    const page = rows.slice(0, size);
    if (!forward) page.reverse();
    const hasPreviousPage = forward ? after !== null && Math.min(after, channel.lastSeq) >= 1 : hasMore;
    const hasNextPage = forward ? hasMore : before !== null && before <= channel.lastSeq;
    return connection(page.map((row) => messageRowSnapshot(row, rowAuthor(row))), hasPreviousPage, hasNextPage);
  }
}

function windowMax(window: RecentWindow): number {
  return window.messages.length > 0 ? window.messages[window.messages.length - 1].seq : 0;
}

/**
 * A `last`/`before` page from a contiguous window of the newest messages, or null when the
 * page reaches below the window while older messages exist.
 */
export function pageFromWindow(window: RecentWindow, size: number, before: number | null): Connection<MessageSnapshot> | null {
  const messages = window.messages;
  const max = windowMax(window);
  const min = messages.length > 0 ? messages[0].seq : max + 1;
  const end = before === null ? max : Math.min(before - 1, max);
  // Nothing at or after `before` is missing from the window: it ends at the newest message.
  const hasNextPage = before !== null && before <= max;
  const available = end >= min ? end - min + 1 : 0;
  if (end < 1) return connection([], false, hasNextPage);
  if (available >= size) {
    const page = messages.slice(available - size, available);
    return connection(page, available > size || window.older, hasNextPage);
  }
  if (window.older) return null;
  return connection(messages.slice(0, available), false, hasNextPage);
}

function connection(nodes: MessageSnapshot[], hasPreviousPage: boolean, hasNextPage: boolean): Connection<MessageSnapshot> {
  const edges = nodes.map((node) => ({ cursor: messageCursor(node.seq), node }));
  return {
    edges,
    pageInfo: {
      hasPreviousPage,
      hasNextPage,
      startCursor: edges.length > 0 ? edges[0].cursor : null,
      endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null,
    },
  };
}
