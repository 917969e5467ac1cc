import type { RedisClient as Redis } from '../shared/redis';
import { eventUser, type ChannelSnapshot, type MessageSnapshot, type UserSnapshot } from '../domain/snapshots';
import { type ChannelTopicEvent, type MessageAddedEvent, Topic } from '../domain/topics';
import { type RequestScope, requireViewer } from '../shared/context';
import { NotFoundError, ResyncRequiredError, UnauthenticatedError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { Logger } from '../shared/logger';
import type { ActionThrottle } from '../shared/rate-limit';
import { ChannelEventStream, type ChannelStreamHost } from './channel-stream';
import type { EventBus } from './event-bus';
import type { EventStream } from './event-stream';
import { decodeInboxCursor, InboxHub, type InboxHost, type InboxPosition, InboxStream } from './inbox';
import { Presence } from './presence';
import { TypingThrottle } from './typing';

// What the realtime engine needs from the features: small interfaces they implement and the
// composition root (app.ts) wires in. The engine knows no feature.

/** Channel access (the channels feature). */
export interface ChannelDirectory {
  /** The channel if the viewer may read it, else null. */
  findVisible(viewerId: string, channelId: string): Promise<{ channel: ChannelSnapshot } | null>;
  /** The channel; NOT_FOUND when the viewer may not see it, FORBIDDEN when they are not a member. */
  requireMember(viewerId: string, channelId: string): Promise<{ channel: ChannelSnapshot }>;
  /** The ids of the user's channels. */
  memberChannelIds(userId: string): Promise<string[]>;
}

/** Committed messages (the messages feature). */
export interface MessageLog {
  /** See ChannelStreamHost.replay. */
  replay(channelId: string, afterSeq: number, options?: { beforeSeq?: number }): Promise<MessageAddedEvent[]>;
  /** Messages by others in the channel since the user joined it, oldest first, at most `limit`. */
  sinceJoined(userId: string, channelId: string, limit: number): Promise<MessageSnapshot[]>;
  /** The seq a message cursor names (BAD_USER_INPUT on `field` otherwise). */
  cursorSeq(cursor: string, field: string): number;
  /**
   * Messages by others after `after` in the inbox order (inbox.ts), in the channels the user
   * belongs to (each since they joined it), oldest first, at most `limit`.
   */
  inboxAfter(userId: string, after: InboxPosition, limit: number): Promise<MessageSnapshot[]>;
}

/** Users by id (the accounts feature). */
export interface UserLookup {
  load(scope: RequestScope, userId: string): Promise<UserSnapshot | null>;
}

export interface RealtimeDeps {
  bus: EventBus;
  logger: Logger;
  /** Presence and typing state: Redis when configured (shared by instances), else this process. */
  redis: Redis | null;
  redisKeyPrefix: string;
  throttle: ActionThrottle;
  channels: ChannelDirectory;
  messages: MessageLog;
  users: UserLookup;
}

/** A resume further behind than this is refused with RESYNC_REQUIRED. */
export const MAX_RESUME_MESSAGES = 1000;

/**
 * The live engine, independent of the transport: channel event streams with lossless
 * resume, the inbox, typing notices and presence. graphql-ws (ws-server.ts and the
 * resolver) only adapts it.
 */
export class RealtimeService {
  readonly presence: Presence;
  private readonly typing: TypingThrottle;
  private openStreams = 0;

  /** What channel streams need from here (channel-stream.ts). */
  private readonly streamHost: ChannelStreamHost;
  /** What inbox hubs need from here (inbox.ts). */
  private readonly inboxHost: InboxHost;
  /** The inbox of each user with an inbox subscription on this instance. */
  private readonly inboxHubs = new Map<string, InboxHub>();

  constructor(private readonly deps: RealtimeDeps) {
    const { messages, logger } = deps;
    this.streamHost = {
      bus: deps.bus,
      replay: (channelId, afterSeq, options) => messages.replay(channelId, afterSeq, options),
      streamLive: () => {
        this.openStreams += 1;
      },
      streamEnded: () => {
        this.openStreams -= 1;
      },
      replayFailed: (id, error) => logger.warn({ channelId: id, err: (error as Error).message }, 'channelEvents replay failed'),
    };
    this.inboxHost = {
      bus: deps.bus,
      logger,
      memberChannelIds: (userId) => deps.channels.memberChannelIds(userId),
      sinceJoined: (userId, channelId, limit) => messages.sinceJoined(userId, channelId, limit),
    };
    this.presence = new Presence(deps.redis, deps.redisKeyPrefix, logger);
    this.typing = new TypingThrottle(deps.redis, deps.redisKeyPrefix);
  }

  /** Streams that are subscribed and live on this instance (for tests and metrics). */
  get activeStreams(): number {
    return this.openStreams;
  }

  // ---- graphql-ws connection hooks -------------------------------------------------

  async connectionOpened(connectionId: number, viewer: { userId: string } | null): Promise<void> {
    if (viewer) await this.presence.connected(connectionId, viewer.userId);
  }

  async connectionClosed(connectionId: number): Promise<void> {
    await this.presence.disconnected(connectionId);
  }

  // ---- typing -------------------------------------------------------------------------

  /** Publishes UserTyping at most once per user and channel per interval; nothing is stored. */
  async setTyping(scope: RequestScope, channelId: string): Promise<boolean> {
    const viewer = requireViewer(scope);
    await this.deps.throttle.check('setTyping', viewer.userId);
    const { channel } = await this.deps.channels.requireMember(viewer.userId, channelId);
    if (!(await this.typing.acquire(channel.id, viewer.userId))) return true;
    const user = await this.deps.users.load(scope, viewer.userId);
    if (!user) throw new UnauthenticatedError();
    const event: ChannelTopicEvent = { type: 'UserTyping', channel, user: eventUser(user) };
    await this.deps.bus.publish(Topic.channel(channel.id), event);
    return true;
  }

  // ---- channelEvents ------------------------------------------------------------------

  /**
   * Every event of one channel the viewer may read, optionally resuming after a message
   * cursor. Authorization, the cursor and the resume distance are checked before the
   * stream is returned, so a refused subscription gets its error and no events.
   *
   * Lossless resume: listen on the channel topic first (the bus resolves once Redis has
   * acknowledged SUBSCRIBE) and buffer; replay committed messages after the cursor from
   * PostgreSQL in pages; then deliver the buffer, dropping what the replay covered, and
   * continue live. Without a cursor the stream starts from the channel's newest message
   * at the time of the check, the same way.
   */
  async channelEvents(scope: RequestScope, channelId: string, after: string | null | undefined): Promise<AsyncIterableIterator<ChannelTopicEvent>> {
    const viewer = requireViewer(scope);
    if (!isUuid(channelId)) throw new NotFoundError('Channel');
    const stream = new ChannelEventStream(this.streamHost, channelId.toLowerCase(), viewer.userId);
    try {
      // Both topics are followed before the access check, so nothing that happens after it
      // (a removal, the channel's deletion, a message) can be missed. Events of a channel
      // the viewer may not read are only held, and dropped with the refused stream.
      await stream.follow();
      const access = await this.deps.channels.findVisible(viewer.userId, stream.channelId);
      if (!access) throw new NotFoundError('Channel');
      const newest = access.channel.lastSeq;
      let start = newest;
      if (after !== undefined && after !== null) {
        // A cursor past the newest message cannot be right; resuming from the newest loses nothing.
        start = Math.min(this.deps.messages.cursorSeq(after, 'after'), newest);
        if (newest - start > MAX_RESUME_MESSAGES) throw new ResyncRequiredError();
      }
      stream.start(start, newest);
    } catch (error) {
      await stream.return();
      throw error;
    }
    return stream;
  }

  // ---- inbox --------------------------------------------------------------------------

  /**
   * Every new message by someone else in any channel the viewer belongs to (inbox.ts). The
   * user's hub on this instance follows their channels, once for all their inbox streams;
   * joining and leaving take effect without resubscribing.
   *
   * With `after` (an inbox cursor), lossless resume as for channelEvents: the stream joins
   * the hub first (collecting), replays from PostgreSQL every message after the cursor, then
   * delivers what was collected, dropping what the replay covered. More than
   * MAX_RESUME_MESSAGES missed answers RESYNC_REQUIRED.
   */
  async inbox(scope: RequestScope, after?: string | null): Promise<AsyncIterableIterator<MessageSnapshot>> {
    const viewer = requireViewer(scope);
    const position = after !== undefined && after !== null ? decodeInboxCursor(after, 'after') : null;
    const stream = new InboxStream();
    const hub = this.joinInboxHub(viewer.userId, stream);
    try {
      await hub.ready;
      let replay: MessageSnapshot[] = [];
      if (position) {
        replay = await this.deps.messages.inboxAfter(viewer.userId, position, MAX_RESUME_MESSAGES + 1);
        if (replay.length > MAX_RESUME_MESSAGES) throw new ResyncRequiredError();
      }
      stream.start(replay, position);
      this.countStream(stream);
    } catch (error) {
      await stream.return();
      throw error;
    }
    return stream;
  }

  /** The user's hub (created with the first stream), which the stream leaves when it ends; the last one closes it. */
  private joinInboxHub(userId: string, stream: InboxStream): InboxHub {
    let hub = this.inboxHubs.get(userId);
    if (!hub) {
      const created = new InboxHub(this.inboxHost, userId);
      this.inboxHubs.set(userId, created);
      created.ready.catch(() => this.dropInboxHub(created));
      hub = created;
    }
    const joined = hub;
    joined.streams.add(stream);
    stream.onClose(() => {
      joined.streams.delete(stream);
      if (joined.streams.size === 0) this.dropInboxHub(joined);
    });
    return joined;
  }

  private dropInboxHub(hub: InboxHub): void {
    if (this.inboxHubs.get(hub.userId) === hub) this.inboxHubs.delete(hub.userId);
    hub.close();
  }

  // ---- helpers ------------------------------------------------------------------------

  private countStream(stream: Pick<EventStream<unknown>, 'onClose'>): void {
    this.openStreams += 1;
    stream.onClose(() => {
      this.openStreams -= 1;
    });
  }
}
