import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger';

/** The two connections a Redis-backed instance needs: commands (and publishing), and subscriptions. */
export interface RedisClients {
  command: Redis;
  subscriber: Redis;
  close(): Promise<void>;
}

export function createRedisClients(url: string, logger: Logger): RedisClients {
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
  // Auto-pipelining: commands issued in the same tick by concurrent requests share one write.
  const command = new Redis(url, { ...base, enableAutoPipelining: true, connectionName: 'chat-api:command' });
  // The subscriber queues SUBSCRIBE while reconnecting and resubscribes by itself.
  const subscriber = new Redis(url, { ...base, enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName: 'chat-api:subscriber' });
  for (const [name, client] of [['command', command], ['subscriber', subscriber]] as const) {
    let down = false;
    client.on('error', (error) => {
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

export async function connectRedis(clients: RedisClients): Promise<void> {
  await Promise.all([clients.command.connect(), clients.subscriber.connect()]);
}
