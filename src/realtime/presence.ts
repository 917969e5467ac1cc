import { randomUUID } from 'node:crypto';
import type { RedisClient as Redis } from '../shared/redis';
import type { Logger } from '../shared/logger';
import { slotTag } from '../shared/redis-keys';

export interface PresenceTiming {
  /** An instance counts as live this long after its last heartbeat. */
  ttlMs: number;
  /** How often an instance refreshes its liveness. */
  heartbeatMs: number;
}

export const DEFAULT_PRESENCE_TIMING: PresenceTiming = { ttlMs: 15_000, heartbeatMs: 5_000 };

// KEYS: instances (named so a cluster routes the script to its slot). ARGV: the presence key
// base, now (ms), then the user ids. One 0/1 per user: online on any live instance.
const ONLINE_SCRIPT = `
local prefix = ARGV[1]
local live = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf')
local online = {}
for i = 3, #ARGV do online[i - 2] = 0 end
for _, instance in ipairs(live) do
  local members = redis.call('SMISMEMBER', prefix .. 'on:' .. instance, unpack(ARGV, 3))
  for i, member in ipairs(members) do
    if member == 1 then online[i] = 1 end
  end
end
return online`;

// KEYS: instances, this instance's users. ARGV: instance id, until (ms), user id, set lifetime (ms).
const JOIN_SCRIPT = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1`;

type PresenceCommands = Redis & {
  presenceOnline(instances: string, base: string, now: number, ...userIds: string[]): Promise<number[]>;
  presenceJoin(instances: string, users: string, instanceId: string, until: number, userId: string, lifetimeMs: number): Promise<number>;
};

/**
 * Who has an open graphql-ws connection on any instance.
 *
 * With Redis: each instance keeps the set `presence:on:<instance>` of the users with at
 * least one connection there (added with the first, removed with the last), and its
 * liveness in the sorted set `presence:instances` (score = the time until which it counts).
 * A heartbeat every `heartbeatMs` costs three commands however many users are connected.
 * An instance that dies stops refreshing: its users stop counting within `ttlMs`, and its set
 * expires. A lookup of many users is one round trip (a script checking every live instance).
 *
 * On a Redis Cluster every presence key carries the hash tag `{<prefix>presence}`, so the
 * script and the heartbeat's MULTI touch one slot (one shard serves all presence).
 *
 * Without Redis (one instance): counting in memory.
 */
export class Presence {
  /** This instance's live connections: connection number -> user id. */
  private readonly connections = new Map<number, string>();
  private readonly localCounts = new Map<string, number>();
  private readonly instanceId = randomUUID();
  private readonly redis: PresenceCommands | null;
  private timer: NodeJS.Timeout | null = null;
  private crashed = false;
  private timing: PresenceTiming = { ...DEFAULT_PRESENCE_TIMING };

  constructor(
    redis: Redis | null,
    prefix: string,
    private readonly logger: Logger,
  ) {
    if (redis && !('presenceOnline' in redis)) {
      redis.defineCommand('presenceOnline', { numberOfKeys: 1, lua: ONLINE_SCRIPT });
      redis.defineCommand('presenceJoin', { numberOfKeys: 2, lua: JOIN_SCRIPT });
    }
    this.redis = redis as PresenceCommands | null;
    this.keyBase = `${slotTag(redis, `${prefix}presence`)}:`;
  }

  /** `<prefix>presence:` (cluster: `{<prefix>presence}:`), before every presence key. */
  private readonly keyBase: string;

  private get instancesKey(): string {
    return `${this.keyBase}instances`;
  }

  private get usersKey(): string {
    return `${this.keyBase}on:${this.instanceId}`;
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

  async connected(connectionId: number, userId: string): Promise<void> {
    this.connections.set(connectionId, userId);
    const count = (this.localCounts.get(userId) ?? 0) + 1;
    this.localCounts.set(userId, count);
    this.ensureTimer();
    if (count > 1 || !this.redis || this.crashed) return;
    await this.redis
      .presenceJoin(this.instancesKey, this.usersKey, this.instanceId, Date.now() + this.timing.ttlMs, userId, this.timing.ttlMs * 2)
      .catch((error: Error) => this.logger.warn({ err: error.message }, 'presence: could not record a connection'));
    // The last connection closed while the first was being recorded: its removal may have reached Redis first.
    if (!this.localCounts.has(userId)) await this.redis.srem(this.usersKey, userId).catch(() => undefined);
  }

  async disconnected(connectionId: number): Promise<void> {
    const userId = this.connections.get(connectionId);
    if (!userId) return;
    this.connections.delete(connectionId);
    if (this.connections.size === 0) this.stopTimer();
    const count = (this.localCounts.get(userId) ?? 1) - 1;
    if (count > 0) {
      this.localCounts.set(userId, count);
      return;
    }
    this.localCounts.delete(userId);
    if (this.redis && !this.crashed) {
      await this.redis.srem(this.usersKey, userId).catch((error: Error) => this.logger.warn({ err: error.message }, 'presence: could not remove a connection'));
    }
  }

  /** Whether each user is online, in order: one Redis round trip for the whole list. */
  async areOnline(userIds: readonly string[]): Promise<boolean[]> {
    const local = () => userIds.map((id) => (this.localCounts.get(id) ?? 0) > 0);
    if (!this.redis || userIds.length === 0) return local();
    try {
      const online = await this.redis.presenceOnline(this.instancesKey, this.keyBase, Date.now(), ...userIds);
      return online.map((flag) => flag === 1);
    } catch (error) {
      // A failed lookup (Redis away) answers from what this instance knows rather than failing the query.
      this.logger.warn({ err: (error as Error).message }, 'presence lookup failed');
      return local();
    }
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
    try {
      const results = await this.redis
        .multi()
        .zadd(this.instancesKey, now + this.timing.ttlMs, this.instanceId)
        // Instances that stopped refreshing go.
        .zremrangebyscore(this.instancesKey, '-inf', now)
        .pexpire(this.usersKey, this.timing.ttlMs * 2)
        .exec();
      // The set is gone (Redis restarted or was flushed): write it again from what this instance knows.
      if (results?.[2]?.[1] === 0 && this.localCounts.size > 0) {
        await this.redis
          .multi()
          .sadd(this.usersKey, ...this.localCounts.keys())
          .pexpire(this.usersKey, this.timing.ttlMs * 2)
          .exec();
      }
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'presence heartbeat failed');
    }
  }
}
