import { LRUCache } from 'lru-cache';
import type { UserSnapshot } from '../domain/snapshots';
import { type ProfileTopicEvent, Topic } from '../domain/topics';
import type { BusListener, EventBus } from '../realtime/event-bus';
import type { Logger } from '../shared/logger';

/** Profiles an instance keeps at most (a few hundred bytes each). */
export const PROFILE_CACHE_ENTRIES = 50_000;

export interface ProfileCacheOptions {
  /** How long a profile is used without reading it again: the bound on staleness when an invalidation was lost (Redis away). 0 turns the cache off. */
  ttlMs: number;
  /** Profiles kept at most (least recently used go first). */
  maxEntries: number;
}

/**
 * This instance's copy of user profiles (the rows every `author`, `owner` and `peer` renders),
 * so a history page does not read its authors from PostgreSQL each time. Profiles change only
 * through `updateProfile`; a change is dropped here at once and announced on the profiles
 * topic, which every instance listens to. An announcement lost while the bus was away is
 * bounded by the time to live, and the whole copy is dropped when the bus comes back.
 *
 * Only reads that began after the last invalidation may fill it (`epoch`): a read racing an
 * update cannot put the old row back after the update dropped it.
 */
export class ProfileCache implements BusListener {
  private readonly entries: LRUCache<string, UserSnapshot> | null;
  private generation = 0;
  private listening = false;

  constructor(
    private readonly bus: EventBus,
    private readonly logger: Logger,
    options: ProfileCacheOptions,
  ) {
    this.entries = options.ttlMs > 0 ? new LRUCache<string, UserSnapshot>({ max: options.maxEntries, ttl: options.ttlMs }) : null;
    bus.onRestored(() => this.clear());
  }

  /** Listens for changes made on other instances; resolves once the listener is active. */
  async start(): Promise<void> {
    if (this.listening || !this.entries) return;
    this.listening = true;
    await this.bus.attach(Topic.profiles(), this).catch((error: Error) => {
      this.listening = false;
      this.logger.error({ err: error.message }, 'could not listen for profile changes');
      throw error;
    });
  }

  stop(): void {
    if (!this.listening) return;
    this.listening = false;
    this.bus.detach(Topic.profiles(), this);
  }

  get(userId: string): UserSnapshot | undefined {
    return this.entries?.get(userId);
  }

  /** Taken before a read of profiles; `fill` with it afterwards. */
  get epoch(): number {
    return this.generation;
  }

  /** Keeps profiles read from PostgreSQL, unless something was invalidated since `epoch`. */
  fill(users: Iterable<UserSnapshot>, epoch: number): void {
    if (!this.entries || epoch !== this.generation) return;
    for (const user of users) this.entries.set(user.id, user);
  }

  /** After a profile change committed: dropped here, then on every other instance. */
  async changed(userId: string): Promise<void> {
    this.invalidate(userId);
    const event: ProfileTopicEvent = { type: 'ProfileChanged', userId };
    await this.bus.publish(Topic.profiles(), event);
  }

  onBusEvent(payload: unknown): void {
    const event = payload as ProfileTopicEvent;
    if (event.type === 'ProfileChanged') this.invalidate(event.userId);
  }

  private invalidate(userId: string): void {
    this.generation += 1;
    this.entries?.delete(userId);
  }

  private clear(): void {
    this.generation += 1;
    this.entries?.clear();
  }
}
