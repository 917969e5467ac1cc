// The inbox: every new message by others in any channel the viewer belongs to.
//
// Cost (issue 14, point 3): one InboxHub per user per instance follows the user's topic and
// the topics of all their channels (one listener object on each), however many inbox
// subscriptions that user has open; each subscription is a stream the hub hands messages
// to. So a subscription costs the same whether its user is in 1 channel or 200.
//
// Resume (point 11): an inbox cursor is the position of a message in the inbox's order,
// (createdAt to the millisecond, channel id, seq); see InboxPosition. With `after`, a stream
// joins its hub first (collecting live messages), replays from PostgreSQL what lies after
// the cursor, then delivers what was collected, dropping what the replay covered.
import type { MessageSnapshot } from '../domain/snapshots';
import { type ChannelTopicEvent, Topic, type UserTopicEvent } from '../domain/topics';
import { BadUserInputError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { Logger } from '../shared/logger';
import { decodeCursor, encodeCursor } from '../shared/relay';
import type { BusListener, EventBus, Unsubscribe } from './event-bus';
import { EventStream } from './event-stream';

/** Messages a newly followed inbox channel catches up on (those sent since joining). */
export const INBOX_CATCH_UP_LIMIT = 100;

const INBOX_CURSOR = 'inbox';

/**
 * Where a message stands in the inbox's order: by creation time (to the millisecond, the
 * precision of the snapshots events carry), then channel id, then seq. Within a channel this
 * is seq order (one instance commits a channel's sends one batch after the other, each
 * batch's rows sharing one creation time). Across channels it is the order messages were
 * sent, which the live stream follows as closely as commits and publishes do.
 *
 * Why not a per-channel vector of seqs: a cursor would grow with the viewer's channels
 * (up to 200 ids and seqs). Why not a new global sequence: it would need a change to the
 * send path (send_messages) and another index on messages, for the same cross-channel
 * caveat (numbers are drawn at insert, not at commit).
 */
export interface InboxPosition {
  createdAtMs: number;
  channelId: string;
  seq: number;
}

export function inboxPosition(message: MessageSnapshot): InboxPosition {
  return { createdAtMs: message.createdAt.getTime(), channelId: message.channelId, seq: message.seq };
}

export function inboxCursor(message: MessageSnapshot): string {
  return encodeCursor(INBOX_CURSOR, `${message.createdAt.getTime()}.${message.channelId}.${message.seq}`);
}

export function decodeInboxCursor(cursor: string, field: string): InboxPosition {
  const [ms, channelId, seq, ...rest] = decodeCursor(INBOX_CURSOR, cursor, field).split('.');
  if (rest.length > 0 || !/^\d{1,15}$/.test(ms ?? '') || !isUuid(channelId ?? '') || !/^\d{1,15}$/.test(seq ?? '')) {
    throw new BadUserInputError(field, `${field} is not a valid cursor.`);
  }
  return { createdAtMs: Number(ms), channelId: channelId.toLowerCase(), seq: Number(seq) };
}

function comparePositions(a: InboxPosition, b: InboxPosition): number {
  if (a.createdAtMs !== b.createdAtMs) return a.createdAtMs - b.createdAtMs;
  if (a.channelId !== b.channelId) return a.channelId < b.channelId ? -1 : 1;
  return a.seq - b.seq;
}

/** What hubs need from the engine (realtime.service.ts wires the features in). */
export interface InboxHost {
  readonly bus: EventBus;
  readonly logger: Logger;
  memberChannelIds(userId: string): Promise<string[]>;
  sinceJoined(userId: string, channelId: string, limit: number): Promise<MessageSnapshot[]>;
}

/**
 * One viewer's inbox subscription. Until `start`, messages its hub hands over are collected;
 * with a resume, messages the replay already delivered are dropped (by seq per channel:
 * seqs are in commit order), for the whole life of the stream since a late publish of a
 * replayed message may come after the replay.
 */
export class InboxStream extends EventStream<MessageSnapshot> {
  private early: MessageSnapshot[] | null = [];
  /** The newest seq the replay delivered per channel (null without a replay). */
  private replayed: Map<string, number> | null = null;

  /** Called by the hub with each new message by someone else. */
  offer(message: MessageSnapshot): void {
    if (this.isClosed) return;
    if (this.early) {
      this.early.push(message);
      return;
    }
    this.deliver(message);
  }

  /** Goes live after delivering `replay` (messages after the client's cursor, in inbox order). */
  start(replay: MessageSnapshot[], after: InboxPosition | null): void {
    if (replay.length > 0) this.replayed = new Map();
    for (const message of replay) {
      this.push(message);
      this.replayed!.set(message.channelId, Math.max(this.replayed!.get(message.channelId) ?? 0, message.seq));
    }
    const early = this.early ?? [];
    this.early = null;
    for (const message of early) {
      // Collected while the replay read: at or before the cursor the client has it.
      if (after && comparePositions(inboxPosition(message), after) <= 0) continue;
      this.deliver(message);
    }
  }

  private deliver(message: MessageSnapshot): void {
    const replayed = this.replayed?.get(message.channelId);
    if (replayed !== undefined && message.seq <= replayed) return;
    this.push(message);
  }

  protected override finished(): void {
    this.early = null;
    this.replayed = null;
  }
}

interface FollowedChannel {
  /** While a catch-up runs: the messages that arrived meanwhile. */
  buffer: MessageSnapshot[] | null;
  /** Seqs the catch-up delivered (dropped when they also arrive live). */
  caughtUp: Set<number> | null;
}

/**
 * The inbox of one user on this instance, shared by all their inbox streams. It is one bus
 * listener on every topic it follows: a ChannelTopicEvent names its channel.
 */
export class InboxHub implements BusListener {
  readonly streams = new Set<InboxStream>();
  private readonly channels = new Map<string, FollowedChannel>();
  private unlistenUser: Unsubscribe | null = null;
  private closed = false;
  /** Resolves once the hub follows the user's channels. */
  readonly ready: Promise<void>;

  constructor(
    private readonly host: InboxHost,
    readonly userId: string,
  ) {
    this.ready = this.load();
  }

  private async load(): Promise<void> {
    // Membership changes that arrive while the initial set loads are applied after it, in order.
    let control: UserTopicEvent[] | null = [];
    const apply = (event: UserTopicEvent) => {
      if (event.type === 'MembershipAdded') void this.follow(event.channelId, true);
      else if (event.type === 'MembershipRemoved') this.unfollow(event.channelId);
    };
    const unlisten = await this.host.bus.listen<UserTopicEvent>(Topic.user(this.userId), (event) => {
      if (this.closed) return;
      if (control) control.push(event);
      else apply(event);
    });
    if (this.closed) {
      unlisten();
      return;
    }
    this.unlistenUser = unlisten;
    const ids = await this.host.memberChannelIds(this.userId);
    await Promise.all(ids.map((channelId) => this.follow(channelId, false)));
    const queued = control;
    control = null;
    for (const event of queued) apply(event);
  }

  onBusEvent(payload: unknown): void {
    if (this.closed) return;
    const event = payload as ChannelTopicEvent;
    if (event.type === 'ChannelDeleted') {
      // A deleted channel is dropped even if no MembershipRemoved follows for it.
      this.unfollow(event.channelId);
      return;
    }
    if (event.type !== 'MessageAdded') return;
    const message = event.message;
    const followed = this.channels.get(message.channelId);
    if (!followed) return;
    if (followed.buffer) followed.buffer.push(message);
    else if (!followed.caughtUp?.has(message.seq)) this.handOut(message);
  }

  private handOut(message: MessageSnapshot): void {
    if (message.authorId === this.userId) return;
    for (const stream of this.streams) stream.offer(message);
  }

  private async follow(channelId: string, catchUp: boolean): Promise<void> {
    if (this.closed || this.channels.has(channelId)) return;
    const followed: FollowedChannel = { buffer: catchUp ? [] : null, caughtUp: null };
    this.channels.set(channelId, followed);
    try {
      await this.host.bus.attach(Topic.channel(channelId), this);
    } catch (error) {
      if (this.channels.get(channelId) === followed) this.channels.delete(channelId);
      this.host.logger.warn({ channelId, err: (error as Error).message }, 'inbox: could not follow a channel');
      return;
    }
    if (this.closed || this.channels.get(channelId) !== followed) return;
    if (!followed.buffer) return;
    // Joined just now: what was sent since the membership began, so the first message is
    // not lost to the race between it and the SUBSCRIBE.
    const caughtUp = new Set<number>();
    try {
      for (const message of await this.host.sinceJoined(this.userId, channelId, INBOX_CATCH_UP_LIMIT)) {
        caughtUp.add(message.seq);
        this.handOut(message);
      }
    } catch (error) {
      this.host.logger.warn({ channelId, err: (error as Error).message }, 'inbox: catch-up failed');
    }
    const arrived = followed.buffer;
    followed.buffer = null;
    followed.caughtUp = caughtUp.size > 0 ? caughtUp : null;
    for (const message of arrived) if (!caughtUp.has(message.seq)) this.handOut(message);
  }

  private unfollow(channelId: string): void {
    if (!this.channels.delete(channelId)) return;
    this.host.bus.detach(Topic.channel(channelId), this);
  }

  /** Stops following everything (the last stream ended, or loading failed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const channelId of this.channels.keys()) this.host.bus.detach(Topic.channel(channelId), this);
    this.channels.clear();
    this.unlistenUser?.();
    this.unlistenUser = null;
  }
}
