// The newest messages of each channel, kept in Redis (or in process memory without Redis)
// so the usual "open a channel" request needs no message query. PostgreSQL stays the truth:
// the cache holds a contiguous run of sequence numbers ending at the newest message, and a
// reader uses it only when that end equals the channel's last_seq it has just read.
//
// Consistency: every write bumps a per-channel version after its commit; a fill (from a
// database read) is stored only if the version is still the one read before that read,
// so a slow, stale fill never overwrites newer data. Sends append in place (only when the
// new message directly follows the cached ones); edits, deletions and votes invalidate.
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger';
import type { MessageSnapshot } from '../realtime/snapshots';
import { decodeEvent, encodeEvent } from '../realtime/codec';

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
  /** After a send commits: appends when it directly follows the cached messages, else drops the channel. */
  append(message: MessageSnapshot): Promise<void>;
  /** After an edit, deletion or vote commits (or on any doubt). */
  invalidate(channelId: string): Promise<void>;
}

/** The snapshot as cached: the author is resolved per request (profiles change). */
function stripAuthor(message: MessageSnapshot): MessageSnapshot {
  const { author: _author, ...rest } = message;
  return rest;
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

  async append(message: MessageSnapshot): Promise<void> {
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

  async invalidate(channelId: string): Promise<void> {
    const entry = this.entry(channelId);
    entry.version += 1;
    entry.window = null;
  }
}

// Redis layout per channel: a sorted set `recent:<id>` with one member per message (score =
// seq, member = encoded snapshot) plus a marker at score 0 saying whether older messages
// exist; and a counter `recent:v:<id>`, bumped by every write.
const MARKER_OLDER = '#older';
const MARKER_NONE = '#none';

const FILL_SCRIPT = `
local current = redis.call('GET', KEYS[2]) or ''
if current ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]) * 2)
return 1`;

const APPEND_SCRIPT = `
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]) * 2)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local top = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local max = tonumber(top[2] or '0')
local seq = tonumber(ARGV[1])
if seq <= max then return 1 end
if seq ~= max + 1 then redis.call('DEL', KEYS[1]) return 0 end
redis.call('ZADD', KEYS[1], seq, ARGV[2])
local limit = tonumber(ARGV[4])
if seq > limit then
  local removed = redis.call('ZREMRANGEBYSCORE', KEYS[1], 1, seq - limit)
  if removed > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, 0)
    redis.call('ZADD', KEYS[1], 0, '${MARKER_OLDER}')
  end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1`;

export class RedisRecentCache implements RecentMessagesCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly ttlSeconds = 3600,
  ) {}

  private keys(channelId: string): [string, string] {
    return [`${this.prefix}recent:${channelId}`, `${this.prefix}recent:v:${channelId}`];
  }

  private failed(operation: string, channelId: string, error: unknown): void {
    this.logger.warn({ channelId, operation, err: (error as Error).message }, 'recent-messages cache unavailable');
  }

  async get(channelId: string): Promise<CachedRecent> {
    const [dataKey, versionKey] = this.keys(channelId);
    try {
      const results = await this.redis.multi().zrange(dataKey, 0, -1).get(versionKey).exec();
      if (!results || results.some(([error]) => error)) throw results?.find(([error]) => error)?.[0] ?? new Error('transaction aborted');
      const members = results[0][1] as string[];
      const version = (results[1][1] as string | null) ?? '';
      if (members.length === 0 || (members[0] !== MARKER_OLDER && members[0] !== MARKER_NONE)) return { window: null, version };
      const messages = members.slice(1).map((member) => decodeEvent<MessageSnapshot>(member));
      return { window: { older: members[0] === MARKER_OLDER, messages }, version };
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
    const args: Array<string | number> = [version, this.ttlSeconds, 0, older ? MARKER_OLDER : MARKER_NONE];
    for (const message of messages) args.push(message.seq, encodeEvent(stripAuthor(message)));
    try {
      await this.redis.eval(FILL_SCRIPT, 2, dataKey, versionKey, ...args);
    } catch (error) {
      this.failed('fill', channelId, error);
    }
  }

  async append(message: MessageSnapshot): Promise<void> {
    const [dataKey, versionKey] = this.keys(message.channelId);
    try {
      await this.redis.eval(APPEND_SCRIPT, 2, dataKey, versionKey, message.seq, encodeEvent(stripAuthor(message)), this.ttlSeconds, RECENT_LIMIT);
    } catch (error) {
      this.failed('append', message.channelId, error);
      await this.invalidate(message.channelId);
    }
  }

  async invalidate(channelId: string): Promise<void> {
    const [dataKey, versionKey] = this.keys(channelId);
    try {
      await this.redis.multi().incr(versionKey).expire(versionKey, this.ttlSeconds * 2).del(dataKey).exec();
    } catch (error) {
      // The TTL bounds how long a missed invalidation can serve stale data.
      this.failed('invalidate', channelId, error);
    }
  }
}
