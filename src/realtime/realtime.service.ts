import type { RedisClient as Redis } from '../shared/redis';
import { eventUser, type ChannelSnapshot, type MessageSnapshot, type UserSnapshot } from '../domain/snapshots';
import { type ChannelTopicEvent, type MessageAddedEvent, Topic, type UserTopicEvent } from '../domain/topics';
import { type RequestScope, requireViewer } from '../shared/context';
import { NotFoundError, ResyncRequiredError, UnauthenticatedError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { Logger } from '../shared/logger';
import type { ActionThrottle } from '../shared/rate-limit';
import { ChannelEventStream, type ChannelStreamHost } from './channel-stream';
import type { EventBus, Unsubscribe } from './event-bus';
import { EventStream } from './event-stream';
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

/** Messages a newly followed inbox channel catches up on (those sent since joining). */
const INBOX_CATCH_UP_LIMIT = 100;

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
   * Every new message by someone else in any channel the viewer belongs to. Follows the
   * viewer's user topic for membership changes, so joining and leaving take effect
   * without resubscribing; a channel joined meanwhile catches up on what was sent in it
   * since the membership began (a direct channel opened and written to at once).
   */
  async inbox(scope: RequestScope): Promise<AsyncIterableIterator<MessageSnapshot>> {
    const viewer = requireViewer(scope);
    const stream = new EventStream<MessageSnapshot>();
    const followed = new Map<string, Promise<Unsubscribe | null>>();
    stream.onClose(() => {
      for (const pending of followed.values()) void pending.then((unsubscribe) => unsubscribe?.());
      followed.clear();
    });

    const deliver = (message: MessageSnapshot) => {
      if (message.authorId !== viewer.userId) stream.push(message);
    };

    const follow = (channelId: string, catchUp: boolean) => {
      if (followed.has(channelId) || stream.isClosed) return;
      // A deleted channel is dropped even if no MembershipRemoved follows for it.
      followed.set(channelId, this.followInboxChannel(viewer.userId, channelId, catchUp, { deliver, deleted: () => unfollow(channelId) }, stream));
    };
    function unfollow(channelId: string) {
      const pending = followed.get(channelId);
      followed.delete(channelId);
      void pending?.then((unsubscribe) => unsubscribe?.());
    }

    // Membership changes that arrive while the initial set loads are applied after it, in order.
    let control: UserTopicEvent[] | null = [];
    const applyControl = (event: UserTopicEvent) => {
      if (event.type === 'MembershipAdded') follow(event.channelId, true);
      else if (event.type === 'MembershipRemoved') unfollow(event.channelId);
    };
    try {
      await this.listenUntilClosed(stream, Topic.user(viewer.userId), (event: UserTopicEvent) => {
        if (control) control.push(event);
        else applyControl(event);
      });
      for (const memberChannelId of await this.deps.channels.memberChannelIds(viewer.userId)) follow(memberChannelId, false);
      await Promise.all(followed.values());
      const queued = control;
      control = null;
      for (const event of queued) applyControl(event);
      this.countStream(stream);
    } catch (error) {
      await stream.return();
      throw error;
    }
    return stream;
  }

  private async followInboxChannel(
    viewerId: string,
    channelId: string,
    catchUp: boolean,
    { deliver, deleted }: { deliver: (message: MessageSnapshot) => void; deleted: () => void },
    stream: EventStream<MessageSnapshot>,
  ): Promise<Unsubscribe | null> {
    const caughtUp = new Set<number>();
    let buffer: MessageSnapshot[] | null = catchUp ? [] : null;
    const unsubscribe = await this.deps.bus
      .listen<ChannelTopicEvent>(Topic.channel(channelId), (event) => {
        if (event.type === 'ChannelDeleted') deleted();
        if (event.type !== 'MessageAdded') return;
        if (buffer) buffer.push(event.message);
        else if (!caughtUp.has(event.message.seq)) deliver(event.message);
      })
      .catch((error: Error) => {
        this.deps.logger.warn({ channelId, err: error.message }, 'inbox: could not follow a channel');
        return null;
      });
    if (!unsubscribe) return null;
    if (stream.isClosed) {
      unsubscribe();
      return null;
    }
    if (buffer) {
      try {
        for (const message of await this.deps.messages.sinceJoined(viewerId, channelId, INBOX_CATCH_UP_LIMIT)) {
          caughtUp.add(message.seq);
          deliver(message);
        }
      } catch (error) {
        this.deps.logger.warn({ channelId, err: (error as Error).message }, 'inbox: catch-up failed');
      }
      const arrived = buffer;
      buffer = null;
      for (const message of arrived) if (!caughtUp.has(message.seq)) deliver(message);
    }
    return unsubscribe;
  }

  // ---- helpers ------------------------------------------------------------------------

  /** Listens on a topic and stops listening when the stream ends. */
  private async listenUntilClosed<T>(stream: Pick<EventStream<unknown>, 'isClosed' | 'onClose'>, topic: string, onEvent: (event: T) => void): Promise<void> {
    const unsubscribe = await this.deps.bus.listen<T>(topic, (event) => {
      if (!stream.isClosed) onEvent(event);
    });
    stream.onClose(unsubscribe);
  }

  private countStream(stream: Pick<EventStream<unknown>, 'onClose'>): void {
    this.openStreams += 1;
    stream.onClose(() => {
      this.openStreams -= 1;
    });
  }
}
