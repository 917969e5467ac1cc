import type { RedisClient as Redis } from './redis';
import type { RateLimitedAction } from '../config';
import { RateLimitedError } from './errors';
import type { Logger } from './logger';

export interface RateLimitRule {
  /** Hits allowed per window; the hit that makes the count exceed it is refused. */
  limit: number;
  windowSeconds: number;
}

export interface RateLimitResult {
  allowed: boolean;
  /** Hits counted in the current window, this one included. */
  count: number;
  /** Hits left in the current window (0 once refused). */
  remaining: number;
  /** Seconds until the window ends (0 while allowed). */
  retryAfterSeconds: number;
}

// Fixed window: the first hit starts the window (PEXPIRE), later hits only count, so a
// blocked caller that keeps trying does not extend its own block.
const HIT_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

// Gives hits back within the window they were counted in (a window that ended took them with it).
const REFUND_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]))
if not count or count <= 0 then return 0 end
return redis.call('DECRBY', KEYS[1], math.min(count, tonumber(ARGV[1])))
`;

const PEEK_SCRIPT = `
local count = redis.call('GET', KEYS[1])
if not count then return {0, 0} end
return {tonumber(count), redis.call('PTTL', KEYS[1])}
`;

type LimiterCommands = Redis & {
  rateLimitHit(key: string, windowMs: number, cost: number): Promise<[number, number]>;
  rateLimitPeek(key: string): Promise<[number, number]>;
  rateLimitRefund(key: string, cost: number): Promise<number>;
};

/** Entries kept by the in-process store before expired ones are swept. */
const LOCAL_SWEEP_THRESHOLD = 10_000;

/** A subject whose last reservation was asked for less than this long ago acts fast: its next one doubles (take). */
const FAST_SUBJECT_MS = 1000;
/** The most hits one reservation asks for... */
const MAX_RESERVATION = 16;
/** ...and at most this share of the limit, so that what one instance holds unused stays small beside it. */
const MAX_RESERVATION_SHARE = 0.1;

/**
 * Hits of one key counted in Redis ahead of use by this instance (RateLimiter.take), within
 * the window they were counted in.
 */
interface Reservation {
  /** Counted and not used yet. */
  left: number;
  /** The window's end (epoch ms), as of when the hits were asked for: never later than Redis's. */
  expiresAt: number;
  /** Hits asked for last time, and when. */
  size: number;
  askedAt: number;
  /** A reservation being asked for: hits that come meanwhile wait for it. */
  asking: Promise<unknown> | null;
}

/** What take answers: whether the hit is within the rule, and when to try again if not. */
export type TakeResult = Pick<RateLimitResult, 'allowed' | 'retryAfterSeconds'>;
const TAKEN: TakeResult = Object.freeze({ allowed: true, retryAfterSeconds: 0 });

/**
 * Fixed-window counters, shared by every instance through Redis when it is configured
 * (keys under the deployment's prefix), else kept in this process. A Redis failure falls
 * back to the in-process counters (logged), so limits keep applying per instance.
 *
 *   const result = await limiter.hit(`login:ip:${ip}`, { limit: 50, windowSeconds: 300 });
 *   if (!result.allowed) throw new RateLimitedError(result.retryAfterSeconds);
 */
export class RateLimiter {
  private readonly local = new Map<string, { count: number; resetAt: number }>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly redis: LimiterCommands | null;

  constructor(
    redis: Redis | null,
    private readonly keyPrefix: string,
    private readonly logger: Logger,
  ) {
    // The scripts run by SHA (EVALSHA), loaded on first use.
    if (redis && !('rateLimitHit' in redis)) {
      redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
      redis.defineCommand('rateLimitPeek', { numberOfKeys: 1, lua: PEEK_SCRIPT });
      redis.defineCommand('rateLimitRefund', { numberOfKeys: 1, lua: REFUND_SCRIPT });
    }
    this.redis = redis as LimiterCommands | null;
  }

  /** Counts one hit (or `cost` hits) against `key` and says whether it is within the rule. */
  async hit(key: string, rule: RateLimitRule, cost = 1): Promise<RateLimitResult> {
    const counted = await this.redisHit(key, rule, cost);
    return counted ? result(counted.count, counted.ttlMs, rule.limit) : this.localHit(key, rule, cost);
  }

  /**
   * Counts one hit against `key`, as `hit` does, for a subject that may act many times a
   * second (a user's sends). Such a subject's hits are counted in Redis a few at a time ahead
   * of use (at most MAX_RESERVATION, and MAX_RESERVATION_SHARE of the limit), and those are
   * used here without a round trip until the window ends: every hit allowed is one counted in
   * Redis in its window, so the limit holds across instances as with `hit`. A subject that
   * stops leaves at most that many counted and unused: it may be refused that much early on
   * another instance. A subject acting less than once a second asks for one hit at a time.
   */
  async take(key: string, rule: RateLimitRule): Promise<TakeResult> {
    if (!this.redis) return this.localHit(key, rule, 1);
    for (;;) {
      const reservation = this.reservations.get(key);
      if (reservation && reservation.left > 0 && Date.now() < reservation.expiresAt) {
        reservation.left -= 1;
        return TAKEN;
      }
      if (!reservation?.asking) return this.reserve(key, rule, reservation);
      await reservation.asking;
    }
  }

  private async reserve(key: string, rule: RateLimitRule, previous: Reservation | undefined): Promise<TakeResult> {
    const askedAt = Date.now();
    const cap = Math.max(1, Math.min(MAX_RESERVATION, Math.floor(rule.limit * MAX_RESERVATION_SHARE)));
    const size = previous && askedAt - previous.askedAt < FAST_SUBJECT_MS ? Math.min(cap, previous.size * 2) : 1;
    if (!previous && this.reservations.size >= LOCAL_SWEEP_THRESHOLD) this.sweepReservations(askedAt);
    // A window's leftovers (an expired reservation) are not carried over.
    const reservation: Reservation = previous ?? { left: 0, expiresAt: 0, size, askedAt, asking: null };
    reservation.left = 0;
    reservation.size = size;
    reservation.askedAt = askedAt;
    this.reservations.set(key, reservation);
    const asking = this.redisHit(key, rule, size);
    reservation.asking = asking;
    const counted = await asking.finally(() => (reservation.asking = null));
    if (!counted) return this.localHit(key, rule, 1);
    // The hits counted before these, and how many of these the rule allows.
    const granted = Math.max(0, Math.min(size, rule.limit - (counted.count - size)));
    if (granted === 0) return result(counted.count, counted.ttlMs, rule.limit);
    reservation.left = granted - 1;
    reservation.expiresAt = askedAt + counted.ttlMs;
    return TAKEN;
  }

  /** Counts `cost` hits in Redis: the count and the window's time left, or null (logged) when Redis is unavailable. */
  private async redisHit(key: string, rule: RateLimitRule, cost: number): Promise<{ count: number; ttlMs: number } | null> {
    if (!this.redis) return null;
    const windowMs = windowMsOf(rule);
    try {
      const [count, ttl] = await this.redis.rateLimitHit(this.redisKey(key), windowMs, cost);
      return { count: Number(count), ttlMs: Number(ttl) };
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'rate limiter: redis unavailable, counting in-process');
      return null;
    }
  }

  private localHit(key: string, rule: RateLimitRule, cost: number): RateLimitResult {
    const windowMs = windowMsOf(rule);
    const now = Date.now();
    let entry = this.local.get(key);
    if (!entry || entry.resetAt <= now) {
      if (this.local.size >= LOCAL_SWEEP_THRESHOLD) this.sweep(now);
      entry = { count: 0, resetAt: now + windowMs };
      this.local.set(key, entry);
    }
    entry.count += cost;
    return result(entry.count, entry.resetAt - now, rule.limit);
  }

  /** The state of `key` without counting: `allowed` is false when the window is already used up. */
  async peek(key: string, rule: RateLimitRule): Promise<RateLimitResult> {
    if (this.redis) {
      try {
        const [count, ttl] = await this.redis.rateLimitPeek(this.redisKey(key));
        return peekResult(Number(count), Number(ttl), rule.limit);
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'rate limiter: redis unavailable, reading in-process');
      }
    }
    const now = Date.now();
    const entry = this.local.get(key);
    if (!entry || entry.resetAt <= now) return peekResult(0, 0, rule.limit);
    return peekResult(entry.count, entry.resetAt - now, rule.limit);
  }

  /**
   * Takes back `cost` hits counted against `key` for an action that turned out not to be the
   * subject's (a request whose session proved no longer live): within the same window only.
   */
  async refund(key: string, cost = 1): Promise<void> {
    // A hit taken from a reservation goes back to it (it stays counted in Redis for this window).
    const reservation = this.reservations.get(key);
    if (reservation && Date.now() < reservation.expiresAt) {
      reservation.left += cost;
      return;
    }
    if (this.redis) {
      try {
        await this.redis.rateLimitRefund(this.redisKey(key), cost);
        return;
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'rate limiter: redis unavailable, refunding in-process');
      }
    }
    const entry = this.local.get(key);
    if (entry && entry.resetAt > Date.now()) entry.count = Math.max(0, entry.count - cost);
  }

  /** Forgets `key`'s window (e.g. a successful login clears its failure counters). */
  async reset(...keys: string[]): Promise<void> {
    for (const key of keys) this.local.delete(key);
    if (!this.redis || keys.length === 0) return;
    try {
      // One DEL per key: the keys of one reset may live in different cluster slots.
      await Promise.all(keys.map((key) => this.redis!.del(this.redisKey(key))));
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'rate limiter: redis unavailable, reset in-process only');
    }
  }

  private redisKey(key: string): string {
    return `${this.keyPrefix}ratelimit:${key}`;
  }

  private sweepReservations(now: number): void {
    for (const [key, reservation] of this.reservations) if (reservation.expiresAt <= now && !reservation.asking) this.reservations.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.local) if (entry.resetAt <= now) this.local.delete(key);
  }
}

function windowMsOf(rule: RateLimitRule): number {
  return Math.max(1, Math.round(rule.windowSeconds * 1000));
}

function result(count: number, ttlMs: number, limit: number): RateLimitResult {
  const allowed = count <= limit;
  return { allowed, count, remaining: Math.max(0, limit - count), retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(ttlMs / 1000)) };
}

/** A peek is refused when the next hit would be: the window already holds `limit` hits. */
function peekResult(count: number, ttlMs: number, limit: number): RateLimitResult {
  const allowed = count < limit;
  return { allowed, count, remaining: Math.max(0, limit - count), retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(ttlMs / 1000)) };
}

/**
 * The per-action limits (RATE_LIMIT_*): `check` counts one action by `subject` (a user id,
 * or the client address for signup) and throws RATE_LIMITED with `retryAfter` when over.
 */
export class ActionThrottle {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly rules: Record<RateLimitedAction, RateLimitRule>,
  ) {}

  async check(action: RateLimitedAction, subject: string): Promise<void> {
    const outcome = await this.limiter.take(this.key(action, subject), this.rules[action]);
    if (!outcome.allowed) throw new RateLimitedError(outcome.retryAfterSeconds);
  }

  /** Takes back the action `check` counted (RateLimiter.refund). */
  refund(action: RateLimitedAction, subject: string): Promise<void> {
    return this.limiter.refund(this.key(action, subject));
  }

  private key(action: RateLimitedAction, subject: string): string {
    return `action:${action}:${subject}`;
  }
}
