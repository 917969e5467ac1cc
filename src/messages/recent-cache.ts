// The newest messages of each channel, kept in Redis (or in process memory without Redis)
// so the usual "open a channel" request needs no message query. PostgreSQL stays the truth:
// the cache holds a contiguous run of sequence numbers ending at the newest message, and a
// reader uses it only when that end equals the channel's last_seq it has just read.
//
// Consistency: every write bumps a per-channel version after its commit; a fill (from a
// database read) is stored only if the version is still the one read before that read,
// so a slow, stale fill never overwrites newer data. Sends append in place (only when the
// new message directly follows the cached ones); edits, deletions and votes invalidate.
import type { RedisClient as Redis } from '../shared/redis';
import { slotTag } from '../shared/redis-keys';
import type { Logger } from '../shared/logger';
import type { MessageSnapshot } from '../domain/snapshots';
import { sharedBatchLoader } from '../shared/batch';
import { IsoDate } from '../shared/date-time';

/** How many of the newest messages of a channel are kept. */
export const RECENT_LIMIT = 100;

/** Cached messages, ascending and contiguous by seq, without embedded authors. */
export interface RecentWindow {
  messages: MessageSnapshot[];
  /** True when older messages exist than the first cached one. */
  older: boolean;
}

export interface CachedRecent {
  /** Null when the channel is not cached. */
  window: RecentWindow | null;
  /** Opaque; pass to fill() so a fill loses against any write that happened since. */
  version: string;
}

/**
 * The cache port. No method throws: a failing backend reads as a miss and drops writes
 * (callers then read PostgreSQL).
 */
export interface RecentMessagesCache {
  get(channelId: string): Promise<CachedRecent>;
  /** Stores a window read from the database, unless the channel was written since `version`. */
  fill(channelId: string, version: string, window: RecentWindow): Promise<void>;
  /**
   * After a batch of sends commits (one channel, in seq order): appends when they directly
   * follow the cached messages, else drops the channel.
   */
  appendAll(messages: MessageSnapshot[]): Promise<void>;
  /** After an edit, deletion or vote commits (or on any doubt). */
  invalidate(channelId: string): Promise<void>;
}

/** The snapshot as cached: the author is resolved per request (profiles change). */
function stripAuthor(message: MessageSnapshot): MessageSnapshot {
  const { author: _author, ...rest } = message;
  return rest;
}

/** A cached message as stored in Redis: plain JSON, dates as ISO strings. */
export function encodeCachedMessage(message: MessageSnapshot): string {
  return JSON.stringify(stripAuthor(message));
}

/** A date as cached: an ISO string; decoded into a Date that keeps its answer form. */
function cachedDate(value: unknown): Date | null {
  return typeof value === 'string' ? new IsoDate(value) : null;
}

export function decodeCachedMessage(text: string): MessageSnapshot {
  const message = JSON.parse(text) as MessageSnapshot;
  message.createdAt = cachedDate(message.createdAt) as Date;
  message.editedAt = cachedDate(message.editedAt);
  return message;
}

export class MemoryRecentCache implements RecentMessagesCache {
  private readonly entries = new Map<string, { version: number; window: RecentWindow | null }>();

  constructor(private readonly maxChannels = 1000) {}

  private entry(channelId: string) {
    let entry = this.entries.get(channelId);
    if (!entry) {
      entry = { version: 0, window: null };
      this.entries.set(channelId, entry);
      // Bounded: forget the oldest-inserted channels.
      while (this.entries.size > this.maxChannels) this.entries.delete(this.entries.keys().next().value as string);
    }
    return entry;
  }

  async get(channelId: string): Promise<CachedRecent> {
    const entry = this.entries.get(channelId);
    if (!entry) return { window: null, version: '0' };
    // Copies, so callers cannot change what is cached.
    const window = entry.window ? { older: entry.window.older, messages: entry.window.messages.map((m) => ({ ...m })) } : null;
    return { window, version: String(entry.version) };
  }

  async fill(channelId: string, version: string, window: RecentWindow): Promise<void> {
    const entry = this.entry(channelId);
    if (String(entry.version) !== version) return;
    entry.window = { older: window.older, messages: window.messages.slice(-RECENT_LIMIT).map(stripAuthor) };
  }

  private append(message: MessageSnapshot): void {
    const entry = this.entry(message.channelId);
    entry.version += 1;
    const window = entry.window;
    if (!window) return;
    const max = window.messages.length > 0 ? window.messages[window.messages.length - 1].seq : 0;
    if (message.seq <= max) return; // already there (a fill saw it)
    if (message.seq !== max + 1) {
      entry.window = null; // a gap: another send has not been applied yet
      return;
    }
    window.messages.push(stripAuthor(message));
    if (window.messages.length > RECENT_LIMIT) {
      window.messages.splice(0, window.messages.length - RECENT_LIMIT);
      window.older = true;
    }
  }

  async appendAll(messages: MessageSnapshot[]): Promise<void> {
    for (const message of messages) this.append(message);
  }

  async invalidate(channelId: string): Promise<void> {
    const entry = this.entry(channelId);
    entry.version += 1;
    entry.window = null;
  }
}

// Redis layout per channel: a sorted set `recent:<id>` with one member per message (score =
// seq, member = the message as JSON) plus a marker at score 0 saying whether older messages
// exist; and a version `recent:v:<id>`, bumped by every write. A version is never reused: a
// missing one starts from the writer's clock in microseconds, not from 0.
const MARKER_OLDER = '#older';
const MARKER_NONE = '#none';

const BUMP_VERSION = `
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[1]) end
redis.call('INCR', KEYS[2])`;

// ARGV: version read before the database read, ttl, fresh version base, then score/member pairs.
const FILL_SCRIPT = `
local current = redis.call('GET', KEYS[2]) or ''
if current ~= ARGV[1] then return 0 end
if current == '' then redis.call('SET', KEYS[2], ARGV[3]) end
redis.call('DEL', KEYS[1])
for i = 4, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]) * 2)
return 1`;

// ARGV: fresh version base, ttl, limit, then seq/member pairs in seq order.
const APPEND_SCRIPT = `${BUMP_VERSION}
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]) * 2)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local limit = tonumber(ARGV[3])
for i = 4, #ARGV, 2 do
  local top = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local max = tonumber(top[2] or '0')
  local seq = tonumber(ARGV[i])
  if seq > max then
    if seq ~= max + 1 then redis.call('DEL', KEYS[1]) return 0 end
    redis.call('ZADD', KEYS[1], seq, ARGV[i + 1])
    if seq > limit then
      local removed = redis.call('ZREMRANGEBYSCORE', KEYS[1], 1, seq - limit)
      if removed > 0 then
        redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, 0)
        redis.call('ZADD', KEYS[1], 0, '${MARKER_OLDER}')
      end
    end
  end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1`;

const INVALIDATE_SCRIPT = `${BUMP_VERSION}
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]) * 2)
redis.call('DEL', KEYS[1])
return 1`;

// ARGV[1]: the version the reader already holds decoded (or ''). Unchanged: only the version comes back.
const READ_SCRIPT = `
local version = redis.call('GET', KEYS[2]) or ''
if version ~= '' and version == ARGV[1] then return {version} end
return {version, redis.call('ZRANGE', KEYS[1], 0, -1)}`;

/** Decoded windows kept per channel, by version: an unchanged channel is neither transferred nor decoded again. */
const MEMO_CHANNELS = 1000;
/** Far below the version key's lifetime, so a version seen here cannot have expired and come back. */
const MEMO_MAX_AGE_MS = 60_000;

type RecentCommands = Redis & {
  recentRead(data: string, version: string, held: string): Promise<[string, string[]?]>;
  recentFill(data: string, version: string, ...args: Array<string | number>): Promise<number>;
  recentAppend(data: string, version: string, ...args: Array<string | number>): Promise<number>;
  recentInvalidate(data: string, version: string, base: string, ttl: number): Promise<number>;
};

/** A version base no earlier version can equal: the clock in microseconds. */
const freshVersionBase = () => String(Date.now() * 1000);

export class RedisRecentCache implements RecentMessagesCache {
  private readonly redis: RecentCommands;
  private readonly memo = new Map<string, { version: string; window: RecentWindow; at: number }>();
  /**
   * Readers of one channel that ask in the same turn of the event loop share one round trip
   * (a busy channel is opened by many at once). Each of them asked before the read went out,
   * so it is as fresh as their own would have been: a write that completed before a reader
   * asked is seen by it.
   */
  private readonly reads = sharedBatchLoader<string, CachedRecent>((channelIds) => Promise.all(channelIds.map((channelId) => this.read(channelId))));

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly ttlSeconds = 3600,
  ) {
    // Scripts run by SHA (EVALSHA), loaded on first use.
    for (const [name, lua] of [
      ['recentRead', READ_SCRIPT],
      ['recentFill', FILL_SCRIPT],
      ['recentAppend', APPEND_SCRIPT],
      ['recentInvalidate', INVALIDATE_SCRIPT],
    ] as const) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 2, lua });
    }
    this.redis = redis as RecentCommands;
  }

  private keys(channelId: string): [string, string] {
    // One channel's window and version share a slot on a cluster (the scripts touch both).
    const channel = slotTag(this.redis, channelId);
    return [`${this.prefix}recent:${channel}`, `${this.prefix}recent:v:${channel}`];
  }

  private failed(operation: string, channelId: string, error: unknown): void {
    this.logger.warn({ channelId, operation, err: (error as Error).message }, 'recent-messages cache unavailable');
  }

  get(channelId: string): Promise<CachedRecent> {
    return this.reads.load(channelId);
  }

  private async read(channelId: string): Promise<CachedRecent> {
    const [dataKey, versionKey] = this.keys(channelId);
    const now = Date.now();
    let held = this.memo.get(channelId);
    if (held && now - held.at > MEMO_MAX_AGE_MS) held = undefined;
    try {
      const [version, members] = await this.redis.recentRead(dataKey, versionKey, held?.version ?? '');
      if (!members) return held && held.version === version ? { window: held.window, version } : { window: null, version };
      if (members.length === 0 || (members[0] !== MARKER_OLDER && members[0] !== MARKER_NONE)) return { window: null, version };
      const window: RecentWindow = { older: members[0] === MARKER_OLDER, messages: members.slice(1).map(decodeCachedMessage) };
      if (version !== '') this.remember(channelId, { version, window, at: now });
      return { window, version };
    } catch (error) {
      this.failed('get', channelId, error);
      // A version no fill can match: nothing gets stored while Redis misbehaves.
      return { window: null, version: '\u0000unavailable' };
    }
  }

  async fill(channelId: string, version: string, window: RecentWindow): Promise<void> {
    if (version === '\u0000unavailable') return;
    const [dataKey, versionKey] = this.keys(channelId);
    const messages = window.messages.slice(-RECENT_LIMIT);
    const older = window.older || messages.length < window.messages.length;
    const args: Array<string | number> = [version, this.ttlSeconds, freshVersionBase(), 0, older ? MARKER_OLDER : MARKER_NONE];
    for (const message of messages) args.push(message.seq, encodeCachedMessage(message));
    try {
      await this.redis.recentFill(dataKey, versionKey, ...args);
    } catch (error) {
      this.failed('fill', channelId, error);
    }
  }

  /** Messages of one channel, in seq order, in one round trip. */
  async appendAll(messages: MessageSnapshot[]): Promise<void> {
    if (messages.length === 0) return;
    const channelId = messages[0].channelId;
    const [dataKey, versionKey] = this.keys(channelId);
    const args: Array<string | number> = [freshVersionBase(), this.ttlSeconds, RECENT_LIMIT];
    for (const message of messages) args.push(message.seq, encodeCachedMessage(message));
    try {
      await this.redis.recentAppend(dataKey, versionKey, ...args);
    } catch (error) {
      this.failed('append', channelId, error);
      await this.invalidate(channelId);
    }
  }

  async invalidate(channelId: string): Promise<void> {
    const [dataKey, versionKey] = this.keys(channelId);
    this.memo.delete(channelId);
    try {
      await this.redis.recentInvalidate(dataKey, versionKey, freshVersionBase(), this.ttlSeconds);
    } catch (error) {
      // The TTL bounds how long a missed invalidation can serve stale data.
      this.failed('invalidate', channelId, error);
    }
  }

  private remember(channelId: string, entry: { version: string; window: RecentWindow; at: number }): void {
    this.memo.delete(channelId);
    this.memo.set(channelId, entry);
    if (this.memo.size > MEMO_CHANNELS) this.memo.delete(this.memo.keys().next().value as string);
  }
}
