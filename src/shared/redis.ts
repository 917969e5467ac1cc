import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisClusterConfig } from '../config';
import type { Logger } from './logger';

/** A single Redis or a Redis Cluster: the same commands; `isCluster` tells them apart. */
export type RedisClient = Redis | Cluster;

/** The two connections a Redis-backed instance needs: commands (and publishing), and subscriptions. */
export interface RedisClients {
  command: RedisClient;
  subscriber: RedisClient;
  close(): Promise<void>;
}

export function createRedisClients(url: string, logger: Logger, cluster: RedisClusterConfig | null = null, commandTimeoutMs = 2000): RedisClients {
  const base: RedisOptions = {
    // Fail fast while Redis is away instead of queueing commands without bound;
    // callers fall back (caches) or log and count (publishes).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    lazyConnect: true,
    // disconnect() (close() when QUIT fails: Redis is down) waits this long, on a ref'd timer,
    // for a dead socket to close: short, so a stopped app lets its process exit at once.
    disconnectTimeout: 200,
  };
  // A frozen Redis answers nothing: commands fail after this instead of stalling their request.
  const commands: RedisOptions = { ...base, commandTimeout: commandTimeoutMs };
  // Auto-pipelining: commands issued in the same tick by concurrent requests share one write.
  const command = cluster
    ? createCluster(cluster, commands, { enableAutoPipelining: true, enableOfflineQueue: false }, 'chat-api:command')
    : new Redis(url, { ...commands, enableAutoPipelining: true, connectionName: 'chat-api:command' });
  // The subscriber queues SUBSCRIBE while reconnecting and resubscribes by itself. On a cluster
  // it holds one connection per master and subscribes each shard channel (SSUBSCRIBE) on the
  // master owning its slot, moving it when a replica takes over.
  const subscriber = cluster
    ? createCluster(cluster, { ...base, enableOfflineQueue: true, maxRetriesPerRequest: null }, { shardedSubscribers: true, enableOfflineQueue: true }, 'chat-api:subscriber')
    : new Redis(url, { ...base, enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName: 'chat-api:subscriber' });
  for (const [name, client] of [['command', command], ['subscriber', subscriber]] as const) {
    let down = false;
    client.on('error', (error: Error) => {
      if (!down) logger.warn({ redis: name, err: error.message }, 'redis connection error');
      down = true;
    });
    client.on('ready', () => {
      if (down) logger.info({ redis: name }, 'redis connection restored');
      down = false;
    });
  }
  return {
    command,
    subscriber,
    async close() {
      await Promise.all([command.quit().catch(() => command.disconnect()), subscriber.quit().catch(() => subscriber.disconnect())]);
    },
  };
}

function createCluster(cluster: RedisClusterConfig, base: RedisOptions, options: ClusterOptions, connectionName: string): Cluster {
  const { retryStrategy, lazyConnect, ...redisOptions } = base;
  return new Cluster(cluster.nodes, {
    ...options,
    lazyConnect,
    clusterRetryStrategy: (attempt) => retryStrategy?.(attempt) ?? 2000,
    // A failover takes a moment: commands that meet CLUSTERDOWN or a moved slot retry meanwhile.
    retryDelayOnClusterDown: 200,
    retryDelayOnFailover: 200,
    redisOptions: {
      ...redisOptions,
      connectionName,
      username: cluster.username,
      password: cluster.password,
      tls: cluster.tls ? {} : undefined,
    },
  });
}

export async function connectRedis(clients: RedisClients): Promise<void> {
  await Promise.all([clients.command.connect(), clients.subscriber.connect()]);
}
