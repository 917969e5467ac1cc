import { type ChannelTopicEvent, type MessageAddedEvent, Topic } from '../domain/topics';
import type { BusListener, EventBus } from './event-bus';
import { EventStream } from './event-stream';

/** How long an out-of-order message waits for its predecessors before they are read from PostgreSQL. */
export const GAP_WAIT_MS = 150;

type MessageAdded = MessageAddedEvent;

/**
 * Messages whose latest delivered version a stream remembers (the most recently updated
 * ones): a late update trails its successor by milliseconds, so a small window suffices
 * and a stream's memory stays bounded.
 */
export const VERSIONS_REMEMBERED = 256;

/** Messages a replay reads at most at once; a shorter page means the replay is complete. */
export const REPLAY_PAGE_SIZE = 200;

/** What a channel stream needs from its engine (realtime.service.ts). */
export interface ChannelStreamHost {
  readonly bus: EventBus;
  /**
   * Committed messages of the channel with afterSeq < seq (< beforeSeq when given), oldest
   * first, at most REPLAY_PAGE_SIZE (the messages feature's MessageLog).
   */
  replay(channelId: string, afterSeq: number, options?: { beforeSeq?: number }): Promise<MessageAddedEvent[]>;
  /** The stream is past its replay and live; `ended` once it stops. */
  streamLive(): void;
  streamEnded(): void;
  replayFailed(channelId: string, error: unknown): void;
}

/**
 * One viewer's channelEvents stream: it follows the channel's topic (itself the listener, so
 * a subscription costs no closure), ends after the viewer's own MemberLeft (a leave or a
 * removal, on any instance) or ChannelDeleted, and puts MessageAdded events in seq order
 * with no gap and no duplicate.
 *
 * Sequence numbers are gapless and in commit order, and publishing follows commit, so a seq
 * that arrives early only means a concurrent commit's publish is still on its way: it is
 * held briefly, and what is still missing then is read from PostgreSQL. Until `start` knows
 * where the client is, and while committed messages after that point are replayed, live
 * events are only collected.
 */
export class ChannelEventStream extends EventStream<ChannelTopicEvent> implements BusListener {
  /** The seq of the last message delivered (or known to the client). */
  private last = 0;
  private live = false;
  private counted = false;
  /** Live events that arrived before the stream was live. */
  private early: ChannelTopicEvent[] | null = null;
  private held: Map<number, MessageAdded> | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  private filling = false;
  private following = false;
  /** The newest version delivered per message id (only messages updated since; see accept()). */
  private versions: Map<string, number> | null = null;

  constructor(
    private readonly host: ChannelStreamHost,
    /** Lowercase. */
    readonly channelId: string,
    readonly viewerId: string,
  ) {
    super();
  }

  /** Follows the channel's topic (resolves once the bus listens), before anything is checked or read. */
  async follow(): Promise<void> {
    if (this.isClosed) return;
    this.following = true;
    await this.host.bus.attach(Topic.channel(this.channelId), this);
  }

  /**
   * The client knows every message up to `afterSeq`; `newestSeq` is the channel's newest
   * committed message as read after following. Replays what lies between, then goes live.
   */
  start(afterSeq: number, newestSeq: number): void {
    this.last = afterSeq;
    if (afterSeq >= newestSeq) {
      // Nothing committed to replay (a message committed since is held until its predecessors are known, as always).
      this.goLive();
      return;
    }
    void this.replay().catch((error: unknown) => {
      this.host.replayFailed(this.channelId, error);
      this.fail(error);
    });
  }

  onBusEvent(payload: unknown): void {
    if (this.isClosed) return;
    const event = payload as ChannelTopicEvent;
    if (this.live) this.accept(event);
    else (this.early ??= []).push(event);
  }

  private async replay(): Promise<void> {
    for (;;) {
      if (this.isClosed) return;
      const page = await this.host.replay(this.channelId, this.last);
      for (const event of page) this.accept(event);
      if (page.length < REPLAY_PAGE_SIZE) break;
    }
    this.goLive();
  }

  /** Delivers what arrived meanwhile, dropping what the replay already covered. */
  private goLive(): void {
    if (this.isClosed) return;
    this.live = true;
    const early = this.early;
    this.early = null;
    if (early) for (const event of early) this.accept(event);
    if (this.isClosed) return;
    // Counted once live: what tests and metrics wait for is a stream past its replay.
    this.counted = true;
    this.host.streamLive();
  }

  private deliver(event: ChannelTopicEvent): void {
    this.push(event);
    // The last event of a deleted channel, or of a viewer who left or was removed: the stream completes after it.
    if (event.type === 'ChannelDeleted' || (event.type === 'MemberLeft' && event.user.id === this.viewerId)) this.end();
  }

  private accept(event: ChannelTopicEvent): void {
    if (this.isClosed) return;
    if (event.type === 'MessageUpdated' || event.type === 'MessageDeleted') {
      // Writes to one message commit in version order, but their publishes may overtake one
      // another (two requests finishing concurrently): an update older than one delivered is
      // stale, and dropping it keeps, say, an edited body from reappearing after the deletion.
      if (!this.newerVersion(event.message.id, event.message.version)) return;
      this.deliver(event);
      return;
    }
    if (event.type !== 'MessageAdded') {
      this.deliver(event);
      return;
    }
    // A replayed message may already carry edits: updates older than it are stale too.
    if (event.message.version) this.newerVersion(event.message.id, event.message.version);
    const seq = event.message.seq;
    if (seq <= this.last || this.held?.has(seq)) return;
    if (seq === this.last + 1) {
      this.last = seq;
      this.deliver(event);
      this.releaseHeld();
      return;
    }
    (this.held ??= new Map()).set(seq, event);
    this.scheduleGapFill();
  }

  /** Records `version` of the message and says whether it is not older than what was delivered (an event without one always passes). */
  private newerVersion(messageId: string, version: number | undefined): boolean {
    if (version === undefined) return true;
    const versions = (this.versions ??= new Map());
    const delivered = versions.get(messageId);
    // Equal is not stale: a write that does not bump the version publishes the one it read.
    if (delivered !== undefined && delivered > version) return false;
    versions.delete(messageId);
    versions.set(messageId, version);
    if (versions.size > VERSIONS_REMEMBERED) versions.delete(versions.keys().next().value as string);
    return true;
  }

  private releaseHeld(): void {
    const held = this.held;
    if (!held) return;
    for (let next = held.get(this.last + 1); next && !this.isClosed; next = held.get(this.last + 1)) {
      held.delete(next.message.seq);
      this.last = next.message.seq;
      this.deliver(next);
    }
    if (held.size === 0) this.held = null;
  }

  private scheduleGapFill(): void {
    if (this.gapTimer || this.filling || this.isClosed) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      void this.fillGap();
    }, GAP_WAIT_MS);
    this.gapTimer.unref?.();
  }

  private async fillGap(): Promise<void> {
    if (!this.held || this.held.size === 0 || this.isClosed) return;
    this.filling = true;
    try {
      const firstHeld = Math.min(...this.held.keys());
      const missing = await this.host.replay(this.channelId, this.last, { beforeSeq: firstHeld });
      for (const event of missing) this.accept(event);
      // Seqs are gapless, so this cannot happen unless rows were removed by hand; never stall on it.
      if (missing.length === 0 && this.last < firstHeld - 1) {
        this.last = firstHeld - 1;
        this.releaseHeld();
      }
    } catch (error) {
      this.fail(error);
      return;
    } finally {
      this.filling = false;
    }
    if (this.held && this.held.size > 0) this.scheduleGapFill();
  }

  protected override finished(): void {
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = null;
    this.held = null;
    this.early = null;
    this.versions = null;
    if (this.following) {
      this.following = false;
      this.host.bus.detach(Topic.channel(this.channelId), this);
    }
    if (this.counted) {
      this.counted = false;
      this.host.streamEnded();
    }
  }
}
