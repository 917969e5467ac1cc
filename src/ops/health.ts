import { Router } from 'express';
import type { EventBus } from '../realtime/event-bus';
import type { RedisClients } from '../shared/redis';
import type { SqlPool } from '../shared/sql';
import { ping } from './ops.queries';

export interface HealthSources {
  sql: SqlPool;
  /** Null when REDIS_URL is unset. */
  redis: RedisClients | null;
  bus: Pick<EventBus, 'stats'>;
}

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** `/healthz`: the process answers. `/readyz`: PostgreSQL and (when configured) Redis answer. */
export function healthRoutes({ sql, redis, bus }: HealthSources): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await withTimeout(ping(sql), CHECK_TIMEOUT_MS);
      checks.postgres = 'ok';
    } catch (error) {
      checks.postgres = `down: ${(error as Error).message}`;
    }
    if (redis) {
      try {
        await withTimeout(redis.command.ping(), CHECK_TIMEOUT_MS);
        checks.redis = redis.subscriber.status === 'ready' ? 'ok' : `subscriber ${redis.subscriber.status}`;
      } catch (error) {
        checks.redis = `down: ${(error as Error).message}`;
      }
    } else {
      checks.redis = 'not configured (in-process pub/sub)';
    }
    const ready = checks.postgres === 'ok' && (!redis || checks.redis === 'ok');
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'unavailable',
      checks,
      publishFailures: bus.stats.publishFailures,
    });
  });
  return router;
}
