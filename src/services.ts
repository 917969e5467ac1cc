import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from './config';
import type { Logger } from './shared/logger';
import type { RedisClients } from './shared/redis';
import type { SqlPool } from './shared/sql';
import type { EventBus } from './realtime/event-bus';
import { ErrorRecorder } from './ops/error-recorder';
import { PasswordHasher } from './accounts/passwords';
import { SessionService } from './accounts/session.service';
import { AccountService } from './accounts/account.service';
import { ChannelService } from './channels/channel.service';
import { MessageService } from './messages/message.service';
import { RealtimeService } from './realtime/realtime.service';
import { ActionThrottle, RateLimiter } from './shared/rate-limit';

/**
 * Everything resolvers and services share, built once per app instance by createApp.
 * Resolvers receive it in their constructor; nothing here is a module-level singleton.
 */
export interface Services {
  config: Config;
  logger: Logger;
  orm: MikroORM;
  /** Plain SQL for the hot paths (shared/sql.ts). */
  sql: SqlPool;
  /** Null when REDIS_URL is unset (single instance, in-process pub/sub and caches). */
  redis: RedisClients | null;
  bus: EventBus;
  errors: ErrorRecorder;
  passwords: PasswordHasher;
  sessions: SessionService;
  /** Fixed-window counters, in Redis when configured (shared by instances), else in-process. */
  limiter: RateLimiter;
  /** The RATE_LIMIT_* limits on actions. */
  throttle: ActionThrottle;
  accounts: AccountService;
  channels: ChannelService;
  messages: MessageService;
  realtime: RealtimeService;
}

export interface Infrastructure {
  config: Config;
  logger: Logger;
  orm: MikroORM;
  sql: SqlPool;
  redis: RedisClients | null;
  bus: EventBus;
}

export function createServices(infra: Infrastructure): Services {
  const { config, logger, orm } = infra;
  const errors = new ErrorRecorder(orm, logger);
  const passwords = new PasswordHasher(config.auth);
  const sessions = new SessionService(infra.sql, config.auth);
  // Feature services receive the whole registry and look their peers up when called,
  // so they can depend on each other without a construction order.
  const limiter = new RateLimiter(infra.redis?.command ?? null, config.redisKeyPrefix, logger);
  const throttle = new ActionThrottle(limiter, config.rateLimits);
  const services = { ...infra, errors, passwords, sessions, limiter, throttle } as Services;
  services.accounts = new AccountService(services);
  services.channels = new ChannelService(services);
  services.messages = new MessageService(services);
  services.realtime = new RealtimeService(services);
  return services;
}
