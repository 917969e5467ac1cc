import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/user.entity';
import { userSnapshot } from '../accounts/user.types';
import { findVisibleChannel, requireMembership } from '../channels/access';
import { Channel } from '../channels/channel.entity';
import { Membership } from '../channels/membership.entity';
import { Message } from '../messages/message.entity';
import { MESSAGE_CURSOR, messageSnapshot } from '../messages/message.types';
import type { Services } from '../services';
import type { Viewer } from '../shared/context';
import { NotFoundError, ResyncRequiredError, UnauthenticatedError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import { decodeIntCursor } from '../shared/relay';
import type { Unsubscribe } from './event-bus';
import { EventStream } from './event-stream';
import { Presence } from './presence';
import { eventUser, loadMessagesAfter, REPLAY_PAGE_SIZE } from './replay';
import { ChannelSequencer } from './sequencer';
import type { MessageSnapshot } from './snapshots';
import { type ChannelTopicEvent, Topic, type UserTopicEvent } from './topics';
import { TypingThrottle } from './typing';

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

  constructor(private readonly services: Services) {
    const prefix = services.config.redisKeyPrefix;
    this.presence = new Presence(services.redis?.command ?? null, prefix, services.logger);
    this.typing = new TypingThrottle(services.redis?.command ?? null, prefix);
  }

  /** Streams that are subscribed and live on this instance (for tests and metrics). */
  get activeStreams(): number {
    return this.openStreams;
  }

  // ---- graphql-ws connection hooks -------------------------------------------------

  async connectionOpened(connectionId: string, viewer: Viewer | null): Promise<void> {
    if (viewer) await this.presence.connected(connectionId, viewer.userId);
  }

  async connectionClosed(connectionId: string): Promise<void> {
    await this.presence.disconnected(connectionId);
  }

  // ---- typing -------------------------------------------------------------------------

  /** Publishes UserTyping at most once per user and channel per interval; nothing is stored. */
  async setTyping(em: EntityManager, viewer: Viewer, channelId: string): Promise<boolean> {
    await this.services.throttle.check('setTyping', viewer.userId);
    const { channel } = await requireMembership(this.services.sql, viewer.userId, channelId);
    if (!(await this.typing.acquire(channel.id, viewer.userId))) return true;
    const user = await em.findOneOrFail(User, { id: viewer.userId });
    const event: ChannelTopicEvent = { type: 'UserTyping', channel, user: eventUser(userSnapshot(user)) };
    await this.services.bus.publish(Topic.channel(channel.id), event);
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
  async channelEvents(viewer: Viewer | null, channelId: string, after: string | null | undefined): Promise<AsyncIterableIterator<ChannelTopicEvent>> {
    if (!viewer) throw new UnauthenticatedError();
    if (!isUuid(channelId)) throw new NotFoundError('Channel');
    const { orm, logger } = this.services;
    const wanted = channelId.toLowerCase();
    const stream = new EventStream<ChannelTopicEvent>();
    try {
      // Listening for removals before the access check leaves no window in which one is missed.
      await this.listenUntilClosed(stream, Topic.user(viewer.userId), (event: UserTopicEvent) => {
        // Leaving or being removed ends the viewer's streams of that channel on every instance.
        if (event.type === 'MembershipRemoved' && event.channelId.toLowerCase() === wanted) stream.end();
      });
      const access = await findVisibleChannel(this.services.sql, viewer.userId, channelId);
      if (!access) throw new NotFoundError('Channel');
      const newest = access.channel.lastSeq;
      let start = newest;
      if (after !== undefined && after !== null) {
        // A cursor past the newest message cannot be right; resuming from the newest loses nothing.
        start = Math.min(decodeIntCursor(MESSAGE_CURSOR, after, 'after'), newest);
        if (newest - start > MAX_RESUME_MESSAGES) throw new ResyncRequiredError();
      }
      const id = access.channel.id;
      const sequencer = new ChannelSequencer(start, {
        deliver: (event) => {
          stream.push(event);
          // The last event of a deleted channel: the stream completes after it.
          if (event.type === 'ChannelDeleted') stream.end();
        },
        fetchBetween: (afterSeq, beforeSeq) => loadMessagesAfter(orm, id, afterSeq, { beforeSeq }),
        fail: (error) => stream.fail(error),
      });
      stream.onClose(() => sequencer.stop());
      await this.listenUntilClosed(stream, Topic.channel(id), (event: ChannelTopicEvent) => sequencer.onLive(event));
      void this.replay(id, sequencer, stream).catch((error: unknown) => {
        logger.warn({ channelId: id, err: (error as Error).message }, 'channelEvents replay failed');
        stream.fail(error);
      });
    } catch (error) {
      await stream.return();
      throw error;
    }
    return stream;
  }

  private async replay(channelId: string, sequencer: ChannelSequencer, stream: EventStream<ChannelTopicEvent>): Promise<void> {
    // Deleted between the access check and the SUBSCRIBE: its ChannelDeleted was missed.
    if ((await this.services.orm.em.fork().count(Channel, { id: channelId })) === 0) {
      sequencer.onLive({ type: 'ChannelDeleted', channelId });
    }
    for (;;) {
      if (stream.isClosed) return;
      const page = await loadMessagesAfter(this.services.orm, channelId, sequencer.lastSeq);
      for (const message of page) sequencer.onReplayed(message);
      if (page.length < REPLAY_PAGE_SIZE) break;
    }
    sequencer.goLive();
    // Counted once live: what tests and metrics wait for is a stream past its replay.
    this.countStream(stream);
  }

  // ---- inbox --------------------------------------------------------------------------

  /**
   * Every new message by someone else in any channel the viewer belongs to. Follows the
   * viewer's user topic for membership changes, so joining and leaving take effect
   * without resubscribing; a channel joined meanwhile catches up on what was sent in it
   * since the membership began (a direct channel opened and written to at once).
   */
  async inbox(viewer: Viewer | null): Promise<AsyncIterableIterator<MessageSnapshot>> {
    if (!viewer) throw new UnauthenticatedError();
    const { orm } = this.services;
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
      const memberships = await orm.em.fork().find(Membership, { user: viewer.userId }, { fields: ['channel'] });
      for (const membership of memberships) follow(membership.channel.id, false);
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
    const unsubscribe = await this.services.bus
      .listen<ChannelTopicEvent>(Topic.channel(channelId), (event) => {
        if (event.type === 'ChannelDeleted') deleted();
        if (event.type !== 'MessageAdded') return;
        if (buffer) buffer.push(event.message);
        else if (!caughtUp.has(event.message.seq)) deliver(event.message);
      })
      .catch((error: Error) => {
        this.services.logger.warn({ channelId, err: error.message }, 'inbox: could not follow a channel');
        return null;
      });
    if (!unsubscribe) return null;
    if (stream.isClosed) {
      unsubscribe();
      return null;
    }
    if (buffer) {
      try {
        const em = this.services.orm.em.fork();
        const membership = await em.findOne(Membership, { channel: channelId, user: viewerId });
        if (membership) {
          const rows = await em.find(
            Message,
            { channel: channelId, createdAt: { $gte: membership.joinedAt }, author: { $ne: viewerId } },
            { orderBy: { seq: 'asc' }, limit: INBOX_CATCH_UP_LIMIT, populate: ['author'] },
          );
          for (const row of rows) {
            const message = messageSnapshot(row, eventUser(userSnapshot(row.author)));
            caughtUp.add(message.seq);
            deliver(message);
          }
        }
      } catch (error) {
        this.services.logger.warn({ channelId, err: (error as Error).message }, 'inbox: catch-up failed');
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
    const unsubscribe = await this.services.bus.listen<T>(topic, (event) => {
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
