import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { RedisClient as Redis } from '../shared/redis';

/**
 * Apollo's KeyValueCache on the app's Redis connection, for automatic persisted queries
 * (APQ): a document registered through one replica is found by all of them, instead of each
 * replica missing once per document. Keys live under `<REDIS_KEY_PREFIX>apq:`; Apollo's TTL
 * (persistedQueries.ttl) becomes the key's expiry. (The Keyv route, @apollo/utils.keyvadapter
 * with @keyv/redis, would open a second Redis connection with another client library.)
 */
export class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = options?.ttl;
    if (typeof ttl === 'number' && ttl > 0) await this.redis.set(this.prefix + key, value, 'EX', Math.ceil(ttl));
    else await this.redis.set(this.prefix + key, value);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(this.prefix + key)) > 0;
  }
}
