import type { RedisClient } from './redis';

/**
 * `part` as a Redis Cluster hash tag (`{part}`) when `redis` is a cluster, else unchanged.
 * Keys that a script or MULTI touches together embed the same tagged part, so they hash to
 * one slot. On a single Redis the key names stay as they always were (instances of an older
 * version share them during a rolling upgrade).
 *
 *   `${prefix}recent:${slotTag(redis, channelId)}`  // cluster: chat:recent:{<channel id>}
 */
export function slotTag(redis: Pick<RedisClient, 'isCluster'> | null, part: string): string {
  return redis?.isCluster ? `{${part}}` : part;
}
