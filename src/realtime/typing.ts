import type { RedisClient as Redis } from '../shared/redis';

/** At most one UserTyping per user and channel this often. */
export const TYPING_INTERVAL_MS = 2000;

/**
 * Throttles typing notices across instances: a `SET NX PX` key in Redis (the first caller
 * in each interval wins), or an in-process map without Redis.
 */
export class TypingThrottle {
  private readonly local = new Map<string, number>();

  constructor(
    private readonly redis: Redis | null,
    private readonly prefix: string,
  ) {}

  /** True when this call may publish (no notice from this user in this channel within the interval). */
  async acquire(channelId: string, userId: string): Promise<boolean> {
    const key = `${this.prefix}typing:${channelId}:${userId}`;
    if (this.redis) {
      const result = await this.redis.set(key, '1', 'PX', TYPING_INTERVAL_MS, 'NX');
      return result === 'OK';
    }
    const now = Date.now();
    if (this.local.size > 10_000) {
      for (const [k, until] of this.local) if (until <= now) this.local.delete(k);
    }
    const until = this.local.get(key);
    if (until !== undefined && until > now) return false;
    this.local.set(key, now + TYPING_INTERVAL_MS);
    return true;
  }
}
