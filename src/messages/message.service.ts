import { LRUCache } from 'lru-cache';
import type { UserDirectory } from '../accounts/user.loader';
import { ActivityAction, recordActivity } from '../accounts/activity';
import { type ChannelAccess, type ChannelAccessControl, accessOf } from '../channels/access';
import type { ChannelLoaders } from '../channels/channel.loader';
import type { ViewerMembership } from '../channels/channel.queries';
import { isModerator } from '../channels/channel.service';
import { type ChannelSnapshot, eventUser, type MessageSnapshot } from '../domain/snapshots';
import { type ChannelTopicEvent, type MessageAddedEvent, Topic } from '../domain/topics';
import type { EventBus } from '../realtime/event-bus';
import { REPLAY_PAGE_SIZE } from '../realtime/channel-stream';
import type { MessageLog } from '../realtime/realtime.service';
import type { InboxPosition } from '../realtime/inbox';
import { carryingSessionCheck, type RequestScope, requireViewer } from '../shared/context';
import { BadUserInputError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import { checkText, isBlankText } from '../shared/text';
import type { ActionThrottle } from '../shared/rate-limit';
import { type Connection, connectionOf, decodeIntCursor, type Edge, pageSize } from '../shared/relay';
import type { SqlClient, SqlPool } from '../shared/sql';
import type { MessageLoaders } from './message.loaders';
import * as queries from './message.queries';
import { withAuthor } from './message.queries';
import { messageCursor, MESSAGE_CURSOR, type SendMessageInput, VoteValue, voteNumber } from './message.types';
import { type AfterCommit, SendBatcher, type SendHooks } from './send-batcher';
import { type CachedRecent, RECENT_LIMIT, type RecentMessagesCache, type RecentWindow } from './recent-cache';

export interface MessageDeps {
  sql: SqlPool;
  access: ChannelAccessControl;
  channelLoaders: ChannelLoaders;
  loaders: MessageLoaders;
  users: UserDirectory;
  throttle: ActionThrottle;
  bus: EventBus;
  /** The newest messages per channel: Redis when configured, else this process's memory. */
  recentCache: RecentMessagesCache;
  /**
   * Run in the deleting transaction, after the tombstone: features above this one drop what a
   * deleted message keeps none of (conversations: its reactions and pin).
   */
  deletionHooks?: ReadonlyArray<(tx: SqlClient, messageId: string) => Promise<void>>;
  /** A feature above this one that writes along with sends, edits and deletions (attention). */
  hooks?: MessageHooks;
}

/**
 * What a feature above messages does with sends, edits and deletions, in their transactions
 * (attention: mentions and notifications). Each write returns the work to do after commit.
 */
export interface MessageHooks extends SendHooks {
  /** Before a send joins its batch, outside any transaction (who is online for `@here`); passed on to `stored`. */
  prepareSend(channelId: string, body: string): unknown;
  /** Before an edit's transaction; passed on to `edited`. */
  prepareEdit(message: MessageSnapshot, body: string): unknown;
  /** In the edit's transaction, after the new body is stored. */
  edited(tx: SqlClient, message: MessageSnapshot, prepared: unknown): Promise<AfterCommit>;
  /** In the deletion's transaction, after the tombstone is stored. */
  deleted(tx: SqlClient, message: MessageSnapshot): Promise<AfterCommit>;
}

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
  if (isBlankText(body)) throw new BadUserInputError('body', 'The message must not be empty.');
  if (body.length > MAX_BODY_LENGTH) throw new BadUserInputError('body', `The message must be at most ${MAX_BODY_LENGTH} characters.`);
  checkText(body, 'body', 'The message', { multiline: true });
  return body;
}

function validateClientMessageId(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  if (raw.length < 1 || raw.length > MAX_CLIENT_MESSAGE_ID_LENGTH || raw.includes('\u0000')) {
    throw new BadUserInputError('clientMessageId', `clientMessageId must be 1-${MAX_CLIENT_MESSAGE_ID_LENGTH} characters.`);
  }
  return raw;
}

/**
 * Sending, editing, deleting, voting, history and the recent-messages cache; for the realtime
 * engine, the message log (replay, inbox catch-up).
 */
export class MessageService implements MessageLog {
  /** The newest messages per channel: Redis when configured, else this process's memory. */
  readonly recentCache: RecentMessagesCache;
  private readonly sql: SqlPool;
  private readonly batcher: SendBatcher;
  /** The newest last_seq seen per channel (access checks of history): which pages surely lie below the window. */
  private readonly lastSeqs = new LRUCache<string, number>({ max: 10_000 });
  /** Edges of cached windows' messages, made once (see EdgeMemo). */
  private readonly windowEdges: EdgeMemo = { plain: new WeakMap(), authored: new WeakMap() };

  constructor(private readonly deps: MessageDeps) {
    this.sql = deps.sql;
    this.recentCache = deps.recentCache;
    this.batcher = new SendBatcher(deps.sql, (messages) => this.afterSends(messages), deps.hooks ?? null);
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
   * A clientMessageId repeated in the same channel returns the first message and stores (and
   * publishes) nothing; keys are scoped to (author, channel).
   */
  async send(scope: RequestScope, input: SendMessageInput): Promise<MessageSnapshot> {
    const viewerId = requireViewer(scope).userId;
    const body = validateBody(input.body);
    const clientMessageId = validateClientMessageId(input.clientMessageId);
    // A request that came before its session check (HTTP, a token seen live): the send's batch
    // statement makes the check and stores the message only if the session is live. Claimed
    // before the first wait, or the check would go out alone meanwhile; handed back if the
    // send fails before its batch.
    const check = scope.sessionCheck;
    const session = check?.claim() ?? null;
    let batched = false;
    try {
      // Not the first send of its document: the first one's batch made the check.
      if (check && !session && !(await check.confirm())) throw new UnauthenticatedError();
      const counted = this.deps.throttle.check('sendMessage', viewerId);
      // Counted before the session proved live: a dead session's hit is given back.
      if (check) {
        void check.verdict.then((live) => {
          if (!live) return this.deps.throttle.refund('sendMessage', viewerId);
        });
      }
      await counted;
      if (!isUuid(input.channelId)) throw new NotFoundError('Channel');
      const channelId = input.channelId.toLowerCase();
      const threadRootId = input.threadId != null ? await this.threadRootFor(viewerId, channelId, input.threadId) : null;
      const prepared = await this.deps.hooks?.prepareSend(channelId, body);
      // Group commit (send-batcher.ts): membership, repeated clientMessageIds and the thread's
      // root are checked under the channel's lock, in the same statement as the insert.
      batched = true;
      const { message } = await this.batcher.send(channelId, { authorId: viewerId, body, clientMessageId, threadRootId, prepared, session });
      return message;
    } finally {
      if (session && !batched) session.fail();
    }
  }

  /**
   * The root a reply to `threadId` joins (threads are flat: a reply to a reply joins its
   * root's thread). NOT_FOUND when the message is unknown or unreadable; BAD_USER_INPUT on
   * `threadId` when it is of another channel or deleted.
   */
  private async threadRootFor(viewerId: string, channelId: string, threadId: string): Promise<string> {
    if (!isUuid(threadId)) throw new NotFoundError('Message');
    const target = await queries.findMessage(this.sql, threadId.toLowerCase());
    if (!target || !(await this.deps.access.findVisible(viewerId, target.channelId))) throw new NotFoundError('Message');
    if (target.channelId !== channelId) throw new BadUserInputError('threadId', 'The thread belongs to another channel.');
    const rootId = target.threadRootId ?? target.id;
    const root = rootId === target.id ? target : await queries.findMessage(this.sql, rootId);
    if (!root || root.deleted) throw new BadUserInputError('threadId', 'The thread was deleted.');
    return rootId;
  }

  /**
   * After a batch of sends commits: the events, in seq order, then the cache. Both go out in
   * this turn on the one command connection (pipelined), events first, since subscribers wait
   * for them; readers use the cache only once it reaches the newest committed seq anyway.
   */
  private async afterSends(messages: MessageSnapshot[]): Promise<void> {
    const events: ChannelTopicEvent[] = messages.map((message) => ({ type: 'MessageAdded', message }));
    // A reply changes its root's thread summary: the root follows as MessageUpdated.
    const rootIds = [...new Set(messages.flatMap((message) => (message.threadRootId ? [message.threadRootId] : [])))];
    if (rootIds.length > 0) {
      const roots = await queries.messagesWithAuthors(this.sql, rootIds).catch(() => []);
      for (const root of roots) events.push({ type: 'MessageUpdated', message: root });
    }
    // One batch is one channel's: its events go out as one message.
    const published = this.deps.bus.publishAll(Topic.channel(messages[0].channelId), events);
    await Promise.all([published, this.recentCache.appendAll(messages)]);
  }

  /** The author edits a (not deleted) message. */
  async edit(scope: RequestScope, messageId: string, rawBody: string): Promise<MessageSnapshot> {
    const viewerId = requireViewer(scope).userId;
    const body = validateBody(rawBody);
    await this.deps.throttle.check('editMessage', viewerId);
    const { message } = await this.requireVisibleMessage(viewerId, messageId);
    if (message.deleted) throw new NotFoundError('Message');
    if (message.authorId !== viewerId) throw new ForbiddenError('Only the author can edit a message.');
    const hooks = this.deps.hooks;
    const prepared = await hooks?.prepareEdit(message, body);
    const { edited, afterCommit } = await this.sql.transaction(async (tx) => {
      const previous = await this.lockLive(tx, message.id);
      // Edit history: the body this edit replaces, in the same transaction.
      if (previous.body !== null) await queries.recordEdit(tx, message.id, previous.body);
      const stored = await queries.editMessageBody(tx, message.id, body);
      return { edited: stored, afterCommit: hooks ? await hooks.edited(tx, stored, prepared) : null };
    });
    const snapshot = await this.afterUpdate(scope, edited, 'MessageUpdated');
    await afterCommit?.();
    return snapshot;
  }

  /** The author, the channel's owner or a moderator turns the message into a tombstone. Repeating it changes nothing. */
  async delete(scope: RequestScope, messageId: string): Promise<MessageSnapshot> {
    const viewerId = requireViewer(scope).userId;
    const { message, access } = await this.requireVisibleMessage(viewerId, messageId);
    const moderates = access.channel.ownerId === viewerId || (access.membership !== null && isModerator(access.membership.role));
    if (message.authorId !== viewerId && !moderates) {
      throw new ForbiddenError("Only the author or the channel's owner and moderators can delete a message.");
    }
    const result = await this.sql.transaction(async (tx) => {
      const locked = await queries.lockMessage(tx, message.id);
      if (!locked) throw new NotFoundError('Message');
      if (locked.deleted) return { message: locked, changed: false };
      const deleted = await queries.tombstoneMessage(tx, message.id);
      // A deleted message keeps no edit history, reactions or pin.
      await queries.deleteEdits(tx, message.id);
      for (const hook of this.deps.deletionHooks ?? []) await hook(tx, message.id);
      await recordActivity(tx, viewerId, ActivityAction.MESSAGE_DELETED, { channelId: access.channel.id, ip: scope.ip, userAgent: scope.userAgent });
      const afterCommit = this.deps.hooks ? await this.deps.hooks.deleted(tx, deleted) : null;
      return { message: deleted, changed: true, afterCommit };
    });
    if (!result.changed) return this.withAuthor(scope, result.message);
    const snapshot = await this.afterUpdate(scope, result.message, 'MessageDeleted');
    await result.afterCommit?.();
    return snapshot;
  }

  /**
   * Sets, switches or clears the viewer's vote. The message row lock serializes every vote on
   * the message, so the old vote read under it is exact and the counters move by the delta.
   * Voting needs membership, like sending.
   */
  async vote(scope: RequestScope, messageId: string, value: VoteValue): Promise<MessageSnapshot> {
    const viewerId = requireViewer(scope).userId;
    await this.deps.throttle.check('vote', viewerId);
    const { message } = await this.requireVisibleMessage(viewerId, messageId);
    requireNotMuted(await this.deps.access.requireMember(viewerId, message.channelId));
    if (message.deleted) throw new NotFoundError('Message');
    const next = voteNumber(value);
    const result = await this.sql.transaction(async (tx) => {
      const locked = await this.lockLive(tx, message.id);
      const previous = await queries.storedVote(tx, locked.id, viewerId);
      if (previous === next) return { message: locked, changed: false };
      await queries.storeVote(tx, locked.id, viewerId, next);
      const counted = await queries.addToVoteCounts(tx, locked.id, Number(next === 1) - Number(previous === 1), Number(next === -1) - Number(previous === -1));
      return { message: counted, changed: true };
    });
    // The response's myVote is the new one, whatever this request loaded before.
    this.deps.loaders.myVotes(scope).clear(message.id).prime(message.id, value);
    if (!result.changed) return this.withAuthor(scope, result.message);
    return this.afterUpdate(scope, result.message, 'MessageUpdated');
  }

  /** Locks a message that must not be deleted (NOT_FOUND otherwise). */
  private async lockLive(tx: SqlClient, messageId: string): Promise<MessageSnapshot> {
    const locked = await queries.lockMessage(tx, messageId);
    if (!locked || locked.deleted) throw new NotFoundError('Message');
    return locked;
  }

  private async afterUpdate(scope: RequestScope, message: MessageSnapshot, type: 'MessageUpdated' | 'MessageDeleted'): Promise<MessageSnapshot> {
    const snapshot = await this.withAuthor(scope, message);
    // Invalidate (bumping the version) rather than patch: two updates of one message may
    // finish in either order, and a stale patch must never win.
    await this.recentCache.invalidate(snapshot.channelId);
    await this.deps.bus.publish(Topic.channel(snapshot.channelId), { type, message: snapshot });
    return snapshot;
  }

  private async withAuthor(scope: RequestScope, message: MessageSnapshot): Promise<MessageSnapshot> {
    const author = await this.deps.users.load(scope, message.authorId);
    // Events carry no email (the User.email resolver loads the viewer's own).
    return withAuthor(message, author ? eventUser(author) : undefined);
  }

  /** The message, if its channel is visible to the viewer; NOT_FOUND otherwise (also for malformed ids). */
  private async requireVisibleMessage(viewerId: string, messageId: string): Promise<{ message: MessageSnapshot; access: ChannelAccess }> {
    if (!isUuid(messageId)) throw new NotFoundError('Message');
    const message = await queries.findMessage(this.sql, messageId);
    if (!message) throw new NotFoundError('Message');
    const access = await this.deps.access.findVisible(viewerId, message.channelId);
    if (!access) throw new NotFoundError('Message');
    return { message, access };
  }

  // ---- history ------------------------------------------------------------------------

  /**
   * Keyset pagination over seq, oldest first within a page. `first`/`after` pages forward,
   * `last`/`before` pages back from the newest; with neither, the newest 20. Pages of the
   * newest messages come from the recent-messages cache when it is warm.
   */
  async history(scope: RequestScope, channelId: string, args: HistoryArgs): Promise<Connection<MessageSnapshot>> {
    const viewerId = requireViewer(scope).userId;
    const page = parseHistoryArgs(args);
    const latest = !page.forward && page.after === null;
    const valid = isUuid(channelId) && isUuid(viewerId);

    // A page that cannot come from the window (forward, or deeper than the window as a last_seq
    // seen before already tells: last_seq only grows) is read from PostgreSQL in the same
    // statement as the access check, and dropped unread when the check fails.
    if (valid && (!latest || this.surelyBelowWindow(channelId, page))) {
      // The request's session check, when still to be made, goes along (PendingSessionCheck).
      const read = await carryingSessionCheck(
        scope.sessionCheck,
        (sessionId) => queries.visibleChannelPage(this.sql, viewerId.toLowerCase(), channelId.toLowerCase(), pageBounds(page), sessionId),
        (result) => result.session,
      );
      const access = accessOf(read.channel);
      if (!access) throw new NotFoundError('Channel');
      this.granted(scope, access);
      return withPageAuthors(this.deps.users, scope, pageConnection(read, page));
    }
    // The newest pages come from the cache. The newest page's read starts together with the
    // access check instead of after it (one round trip less) and is used only once the check
    // has passed (historyFromCache checks it against the channel's last_seq read by that check).
    // A page before a cursor reads it only when it can lie within the window, which the
    // check's last_seq tells: paging deep into history costs no Redis round trip.
    const cachedRead = latest && page.before === null && valid ? this.recentCache.get(channelId) : null;
    cachedRead?.catch(() => undefined); // awaited below only when access is granted
    const access = await this.deps.access.requireVisible(viewerId, channelId, scope.sessionCheck ?? null);
    this.granted(scope, access);
    const { channel } = access;
    if (latest && (page.before === null || page.before - 1 - page.size >= channel.lastSeq - RECENT_LIMIT)) {
      const cached = await this.historyFromCache(channel, page.size, page.before, cachedRead);
      if (cached) return withPageAuthors(this.deps.users, scope, cached, this.windowEdges.authored);
    }
    // Every page comes with its authors (from the profiles this instance holds), asked for or
    // not: Message.author is a plain field, and a page's message can be reached by other paths
    // (a thread's root) than the one a selection check would look at.
    return withPageAuthors(this.deps.users, scope, await listPage(this.sql, { channelId: channel.id }, page));
  }

  /** What a granted access check of history tells: the channel's last_seq, and the channel for the page's nodes. */
  private granted(scope: RequestScope, access: ChannelAccess): void {
    const { channel } = access;
    const seen = this.lastSeqs.get(channel.id);
    if (seen === undefined || channel.lastSeq > seen) this.lastSeqs.set(channel.id, channel.lastSeq);
    // Every node of the page shares this channel: Message.channel (and its membership-based fields) need no query.
    this.deps.channelLoaders.prime(scope, access);
  }

  /** Whether a `before` page lies below the window by the newest last_seq this instance has seen of the channel. */
  private surelyBelowWindow(channelId: string, page: ParsedPage): boolean {
    if (page.before === null) return false;
    const known = this.lastSeqs.get(channelId.toLowerCase());
    return known !== undefined && page.before - 1 - page.size < known - RECENT_LIMIT;
  }

  /** The newest messages as the cache (filling it when cold) answers them, or null when it cannot. */
  private async historyFromCache(channel: ChannelSnapshot, size: number, before: number | null, read: Promise<CachedRecent> | null): Promise<Connection<MessageSnapshot> | null> {
    const cached = await (read ?? this.recentCache.get(channel.id));
    // Usable only when it reaches the newest message this request saw committed (a read made
    // before the channel's last_seq was: then a send committed in between makes it unusable).
    if (cached.window && windowMax(cached.window) >= channel.lastSeq) {
      return pageFromWindow(cached.window, size, before, this.windowEdges);
    }
    // Cold or behind: fill it (the caller asks only for pages among the newest messages).
    const newest = await queries.newestMessages(this.sql, channel.id, RECENT_LIMIT + 1);
    const window: RecentWindow = { older: newest.length > RECENT_LIMIT, messages: newest.slice(0, RECENT_LIMIT).reverse() };
    await this.recentCache.fill(channel.id, cached.version, window);
    return pageFromWindow(window, size, before, this.windowEdges);
  }

  // ---- the message log of the realtime engine ----

  /**
   * Committed messages of a channel with afterSeq < seq (< beforeSeq when given), oldest
   * first, at most REPLAY_PAGE_SIZE, as MessageAdded events with the snapshots live events
   * carry. The replays of concurrent subscriptions share one statement, and those of the same
   * range get the same event objects, so each replayed event is rendered once for all of them
   * (delivery.ts), like a live one.
   */
  replay(channelId: string, afterSeq: number, options: { beforeSeq?: number } = {}): Promise<MessageAddedEvent[]> {
    return this.replayLoader().load(`${channelId}|${afterSeq}|${options.beforeSeq ?? ''}`);
  }

  private replayLoader() {
    return this.sql.batchLoader<string, MessageAddedEvent[]>('replay', async (keys) => {
      const ranges = keys.map((key) => {
        const [channelId, afterSeq, beforeSeq] = key.split('|');
        return { channelId, afterSeq, beforeSeq: beforeSeq === '' ? null : beforeSeq };
      });
      const pages = await queries.messagesInRanges(this.sql, ranges, REPLAY_PAGE_SIZE);
      return pages.map((page) => page.map((message): MessageAddedEvent => ({ type: 'MessageAdded', message })));
    });
  }

  /** Messages by others in the channel since the user joined it (inbox catch-up). */
  sinceJoined(userId: string, channelId: string, limit: number): Promise<MessageSnapshot[]> {
    return queries.messagesSinceJoined(this.sql, userId, channelId, limit);
  }

  /** Messages by others after an inbox position (inbox resume; see realtime/inbox.ts). */
  inboxAfter(userId: string, after: InboxPosition, limit: number): Promise<MessageSnapshot[]> {
    return queries.inboxMessagesAfter(this.sql, userId, after, limit);
  }

  /** The seq a message cursor names (BAD_USER_INPUT on `field` otherwise). */
  cursorSeq(cursor: string, field: string): number {
    return decodeIntCursor(MESSAGE_CURSOR, cursor, field);
  }
}

/** A timeout in force refuses every write but reading (sends check it in send_messages). */
export function requireNotMuted({ membership }: { membership: ViewerMembership }): void {
  if (membership.mutedUntil && membership.mutedUntil.getTime() > Date.now()) throw new ForbiddenError('You are timed out in this channel.');
}

function windowMax(window: RecentWindow): number {
  return window.messages.length > 0 ? window.messages[window.messages.length - 1].seq : 0;
}

/**
 * A `last`/`before` page of channel history (messages that are not replies) from a contiguous
 * window of the newest messages (replies included), or null when the window cannot tell it
 * exactly: the page, or whether a message precedes it, reaches below the window while older
 * messages exist.
 */
export function pageFromWindow(window: RecentWindow, size: number, before: number | null, edges?: EdgeMemo): Connection<MessageSnapshot> | null {
  const messages = window.messages;
  const max = windowMax(window);
  const min = messages.length > 0 ? messages[0].seq : max + 1;
  const end = before === null ? max : Math.min(before - 1, max);
  // Exact whenever it is returned: from `before` on, the window holds every message (it ends
  // at the newest), or it holds them all (no older ones).
  const hasNextPage = before !== null && messages.some((message) => message.seq >= before && !message.threadRootId);
  if (end < 1) return connection([], false, hasNextPage);
  if (end < min && window.older) return null;
  const candidates = messages.filter((message) => message.seq <= end && !message.threadRootId);
  if (candidates.length > size) return connection(candidates.slice(candidates.length - size), true, hasNextPage, edges);
  if (window.older) return null;
  return connection(candidates, false, hasNextPage, edges);
}

/**
 * Edges kept per message object (weakly): the decoded messages of a cached window are shared
 * by every reader of its version (recent-cache.ts), so their edges (`plain`: cursor and node)
 * and their edges with authors (`authored`, by plain edge; valid while the author's profile
 * object is the same one, see withPageAuthors) are made once, not per request.
 */
export interface EdgeMemo {
  plain: WeakMap<MessageSnapshot, Edge<MessageSnapshot>>;
  authored: WeakMap<Edge<MessageSnapshot>, Edge<MessageSnapshot>>;
}

function connection(nodes: MessageSnapshot[], hasPreviousPage: boolean, hasNextPage: boolean, memo?: EdgeMemo): Connection<MessageSnapshot> {
  return connectionOf(
    nodes.map((node) => {
      let edge = memo?.plain.get(node);
      if (!edge) {
        edge = { cursor: messageCursor(node.seq), node };
        memo?.plain.set(node, edge);
      }
      return edge;
    }),
    { hasPreviousPage, hasNextPage },
  );
}

/** Validated page arguments of a keyset list of messages (`messages`, `threadReplies`). */
export interface ParsedPage {
  forward: boolean;
  size: number;
  after: number | null;
  before: number | null;
}

/** `first`/`after` pages forward, `last`/`before` back from the newest; with neither, the newest 20. */
export function parseHistoryArgs(args: HistoryArgs): ParsedPage {
  if (args.first != null && args.last != null) throw new BadUserInputError('last', 'Pass either first or last, not both.');
  const forward = args.first != null || (args.last == null && args.after != null);
  const size = forward ? pageSize(args.first, 'first') : pageSize(args.last, 'last');
  const after = args.after != null ? decodeIntCursor(MESSAGE_CURSOR, args.after, 'after') : null;
  const before = args.before != null ? decodeIntCursor(MESSAGE_CURSOR, args.before, 'before') : null;
  return { forward, size, after, before };
}

/**
 * The page with its authors. Pages come without them (cached windows and keyset pages alike:
 * profiles change, and every instance holds the ones it renders, see UserDirectory), so a
 * page's authors cost no statement once known. With `authored` (edges of shared window
 * messages), an edge made before is used again while its author is the very profile object
 * the directory answers now: a changed or re-read profile is a new object.
 */
export async function withPageAuthors(
  users: UserDirectory,
  scope: RequestScope,
  page: Connection<MessageSnapshot>,
  authored?: EdgeMemo['authored'],
): Promise<Connection<MessageSnapshot>> {
  const found = await users.loadMany(scope, [...new Set(page.edges.map((edge) => edge.node.authorId))]);
  const byId = new Map(found.map((author) => [author.id, author]));
  const edges = page.edges.map((edge) => {
    const author = byId.get(edge.node.authorId);
    const known = authored?.get(edge);
    if (known && known.node.author === author) return known;
    const made = { cursor: edge.cursor, node: withAuthor(edge.node, author) };
    authored?.set(edge, made);
    return made;
  });
  return { pageInfo: page.pageInfo, edges };
}

/**
 * A page of a channel's history or of a thread, read from PostgreSQL in one statement (without
 * authors: withPageAuthors adds them), oldest first, with exact pageInfo: one row past the page
 * says whether more follow in its direction, and the statement says whether any precede its
 * starting cursor.
 */
export async function listPage(sql: SqlPool, list: queries.MessageList, parsed: ParsedPage): Promise<Connection<MessageSnapshot>> {
  return pageConnection(await queries.messagePage(sql, list, pageBounds(parsed)), parsed);
}

/** The keyset bounds of parsed page arguments: one row past the page tells whether more follow. */
function pageBounds({ forward, size, after, before }: ParsedPage): queries.PageBounds {
  return { after, before, order: forward ? 'asc' : 'desc', limit: size + 1 };
}

/** A keyset page's rows as a connection, oldest first. */
function pageConnection({ messages, beyondStart }: queries.ListPage, { forward, size }: ParsedPage): Connection<MessageSnapshot> {
  const hasMore = messages.length > size;
  const page = messages.slice(0, size);
  if (!forward) page.reverse();
  return connection(page, forward ? beyondStart : hasMore, forward ? hasMore : beyondStart);
}
