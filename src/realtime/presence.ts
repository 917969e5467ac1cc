import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger';

export interface PresenceTiming {
  /** A connection counts as live this long after its last heartbeat. */
  ttlMs: number;
  /** How often an instance refreshes its live connections. */
  heartbeatMs: number;
}

export const DEFAULT_PRESENCE_TIMING: PresenceTiming = { ttlMs: 15_000, heartbeatMs: 5_000 };

/**
 * Who has an open graphql-ws connection on any instance.
 *
 * With Redis: one sorted set per user, `presence:<userId>`, whose members are connection
 * ids scored with the time until which they count as live. Each instance refreshes its
 * own connections every `heartbeatMs` (score = now + ttlMs) and removes a connection at
 * once when it closes. An instance that dies stops refreshing, so its entries fall out of
 * the count within `ttlMs`, and the key itself expires. A lookup of many users is one
 * pipelined round trip of ZCOUNTs.
 *
 * Without Redis (one instance): counting in memory.
 */
export class Presence {
  /** This instance's live connections: connection id -> user id. */
  private readonly connections = new Map<string, string>();
  private readonly localCounts = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private crashed = false;
  private timing: PresenceTiming = { ...DEFAULT_PRESENCE_TIMING };

  constructor(
    private readonly redis: Redis | null,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  private key(userId: string): string {
    return `${this.prefix}presence:${userId}`;
  }

  /** Test hook: shorter timing, so "an instance died" is observable in seconds. */
  configure(timing: Partial<PresenceTiming>): void {
    this.timing = { ...this.timing, ...timing };
    if (this.timer) {
      this.stopTimer();
      this.ensureTimer();
    }
  }

  /**
   * Test hook: behave like a process that died: stop heartbeats and never clean up, so
   * other instances must notice through expiry alone.
   */
  simulateCrash(): void {
    this.crashed = true;
    this.stopTimer();
  }

  async connected(connectionId: string, userId: string): Promise<void> {
    this.connections.set(connectionId, userId);
    this.localCounts.set(userId, (this.localCounts.get(userId) ?? 0) + 1);
    if (this.redis && !this.crashed) {
      const key = this.key(userId);
      await this.redis
        .multi()
        .zadd(key, Date.now() + this.timing.ttlMs, connectionId)
        .pexpire(key, this.timing.ttlMs * 2)
        .exec()
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'presence: could not record a connection'));
      // Closed while being recorded: its removal may have reached Redis first.
      if (!this.connections.has(connectionId)) await this.redis.zrem(key, connectionId).catch(() => undefined);
    }
    this.ensureTimer();
  }

  async disconnected(connectionId: string): Promise<void> {
    const userId = this.connections.get(connectionId);
    if (!userId) return;
    this.connections.delete(connectionId);
    const count = (this.localCounts.get(userId) ?? 1) - 1;
    if (count > 0) this.localCounts.set(userId, count);
    else this.localCounts.delete(userId);
    if (this.connections.size === 0) this.stopTimer();
    if (this.redis && !this.crashed) {
      await this.redis
        .zrem(this.key(userId), connectionId)
        .catch((error: Error) => this.logger.warn({ err: error.message }, 'presence: could not remove a connection'));
    }
  }

  /** Whether each user is online, in order: one Redis round trip for the whole list. */
  async areOnline(userIds: readonly string[]): Promise<boolean[]> {
    if (!this.redis) return userIds.map((id) => (this.localCounts.get(id) ?? 0) > 0);
    const now = Date.now();
    const pipeline = this.redis.pipeline();
    for (const id of userIds) pipeline.zcount(this.key(id), now, '+inf');
    // A failed lookup (Redis away) answers from what this instance knows rather than failing the query.
    const results = await pipeline.exec().catch((error: Error) => {
      this.logger.warn({ err: error.message }, 'presence lookup failed');
      return null;
    });
    return userIds.map((id, index) => {
      const [error, count] = results?.[index] ?? [new Error('no reply'), 0];
      if (error) return (this.localCounts.get(id) ?? 0) > 0;
      return Number(count) > 0;
    });
  }

  private ensureTimer(): void {
    if (this.timer || !this.redis || this.crashed || this.connections.size === 0) return;
    this.timer = setInterval(() => void this.heartbeat(), this.timing.heartbeatMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async heartbeat(): Promise<void> {
    if (!this.redis || this.crashed || this.connections.size === 0) return;
    const now = Date.now();
    const pipeline = this.redis.pipeline();
    const users = new Set<string>();
    for (const [connectionId, userId] of this.connections) {
      pipeline.zadd(this.key(userId), now + this.timing.ttlMs, connectionId);
      users.add(userId);
    }
    for (const userId of users) {
      // Entries of dead instances go; the key outlives its newest entry only briefly.
      pipeline.zremrangebyscore(this.key(userId), '-inf', now);
      pipeline.pexpire(this.key(userId), this.timing.ttlMs * 2);
    }
    try {
      await pipeline.exec();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'presence heartbeat failed');
    }
  }
}
