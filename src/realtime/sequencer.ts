import type { MessageSnapshot } from './snapshots';
import type { ChannelTopicEvent } from './topics';

/** How long an out-of-order message waits for its predecessors before they are read from PostgreSQL. */
export const GAP_WAIT_MS = 150;

export interface SequencerPorts {
  /** Delivers one event to the subscriber. */
  deliver(event: ChannelTopicEvent): void;
  /** Committed messages with after < seq < before, oldest first. */
  fetchBetween(afterSeq: number, beforeSeq: number): Promise<MessageSnapshot[]>;
  /** A gap could not be filled (the database failed): the stream must end with this error. */
  fail(error: unknown): void;
}

/**
 * Puts one channel's MessageAdded events in seq order with no gap and no duplicate.
 * Sequence numbers are gapless and in commit order, and publishing follows commit, so a
 * seq that arrives early only means a concurrent commit's publish is still on its way:
 * it is held briefly, and what is still missing then is read from PostgreSQL.
 * While `buffering` (during the initial replay) live events are only collected.
 */
export class ChannelSequencer {
  private buffering = true;
  private readonly buffer: ChannelTopicEvent[] = [];
  private readonly held = new Map<number, ChannelTopicEvent & { type: 'MessageAdded' }>();
  private gapTimer: NodeJS.Timeout | null = null;
  private filling = false;
  private stopped = false;

  constructor(
    /** The seq of the last message delivered (or known to the client). */
    private last: number,
    private readonly ports: SequencerPorts,
  ) {}

  get lastSeq(): number {
    return this.last;
  }

  /** A live event from the bus. */
  onLive(event: ChannelTopicEvent): void {
    if (this.stopped) return;
    if (this.buffering) this.buffer.push(event);
    else this.accept(event);
  }

  /** A replayed message (read from PostgreSQL). */
  onReplayed(message: MessageSnapshot): void {
    this.accept({ type: 'MessageAdded', message });
  }

  /** The replay is done: deliver what arrived meanwhile, dropping what the replay already covered. */
  goLive(): void {
    this.buffering = false;
    for (const event of this.buffer.splice(0)) this.accept(event);
  }

  stop(): void {
    this.stopped = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = null;
    this.held.clear();
  }

  private accept(event: ChannelTopicEvent): void {
    if (this.stopped) return;
    if (event.type !== 'MessageAdded') {
      this.ports.deliver(event);
      return;
    }
    const seq = event.message.seq;
    if (seq <= this.last || this.held.has(seq)) return;
    if (seq === this.last + 1) {
      this.last = seq;
      this.ports.deliver(event);
      this.releaseHeld();
      return;
    }
    this.held.set(seq, event);
    this.scheduleGapFill();
  }

  private releaseHeld(): void {
    for (let next = this.held.get(this.last + 1); next && !this.stopped; next = this.held.get(this.last + 1)) {
      this.held.delete(next.message.seq);
      this.last = next.message.seq;
      this.ports.deliver(next);
    }
  }

  private scheduleGapFill(): void {
    if (this.gapTimer || this.filling || this.stopped) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      void this.fillGap();
    }, GAP_WAIT_MS);
    this.gapTimer.unref?.();
  }

  private async fillGap(): Promise<void> {
    if (this.held.size === 0 || this.stopped) return;
    this.filling = true;
    try {
      const firstHeld = Math.min(...this.held.keys());
      const missing = await this.ports.fetchBetween(this.last, firstHeld);
      for (const message of missing) this.accept({ type: 'MessageAdded', message });
      // Seqs are gapless, so this cannot happen unless rows were removed by hand; never stall on it.
      if (missing.length === 0 && this.last < firstHeld - 1) {
        this.last = firstHeld - 1;
        this.releaseHeld();
      }
    } catch (error) {
      this.stop();
      this.ports.fail(error);
      return;
    } finally {
      this.filling = false;
    }
    if (this.held.size > 0) this.scheduleGapFill();
  }
}
