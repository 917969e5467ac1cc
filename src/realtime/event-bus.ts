import { Repeater } from '@repeaterjs/repeater';
import { PubSub, type PubSubEngine } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger';
import { decodeEvent, encodeEvent } from './codec';

export type Unsubscribe = () => void;

/**
 * The pub/sub port. Topics are per channel and per user (see topics.ts), never one
 * global topic filtered per subscriber. Publishing never throws: a failed publish is
 * logged and counted, because the write it follows has already committed and clients
 * recover missed events with their cursor.
 */
export interface EventBus {
  readonly distributed: boolean;
  publish(topic: string, payload: unknown): Promise<void>;
  /** Resolves once the subscription is active, so nothing published afterwards is missed. */
  listen<T>(topic: string, onEvent: (payload: T) => void): Promise<Unsubscribe>;
  subscribe<T>(topic: string): AsyncIterableIterator<T>;
  readonly stats: { published: number; publishFailures: number };
  close(): Promise<void>;
}

class EngineEventBus implements EventBus {
  readonly stats = { published: 0, publishFailures: 0 };

  constructor(
    private readonly engine: PubSubEngine,
    private readonly prefix: string,
    private readonly logger: Logger,
    readonly distributed: boolean,
    private readonly encodeForEngine: boolean,
    private readonly onClose: () => Promise<void>,
  ) {}

  async publish(topic: string, payload: unknown): Promise<void> {
    try {
      await this.engine.publish(this.prefix + topic, this.encodeForEngine ? encodeEvent(payload) : payload);
      this.stats.published += 1;
    } catch (error) {
      this.stats.publishFailures += 1;
      this.logger.error({ topic, err: (error as Error).message }, 'event publish failed');
    }
  }

  async listen<T>(topic: string, onEvent: (payload: T) => void): Promise<Unsubscribe> {
    const handler = (message: unknown) => {
      try {
        onEvent((this.encodeForEngine ? decodeEvent<T>(message as string) : message) as T);
      } catch (error) {
        this.logger.error({ topic, err: (error as Error).message }, 'event handler failed');
      }
    };
    const id = await this.engine.subscribe(this.prefix + topic, handler, {});
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      Promise.resolve(this.engine.unsubscribe(id)).catch((error: Error) =>
        this.logger.warn({ topic, err: error.message }, 'unsubscribe failed'),
      );
    };
  }

  subscribe<T>(topic: string): AsyncIterableIterator<T> {
    return new Repeater<T>(async (push, stop) => {
      const unsubscribe = await this.listen<T>(topic, (payload) => void push(payload));
      await stop;
      unsubscribe();
    });
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

/** In-process pub/sub for a single instance. Payloads are still encoded, so they behave as over Redis. */
export function createLocalEventBus(prefix: string, logger: Logger): EventBus {
  return new EngineEventBus(new PubSub(), prefix, logger, false, true, async () => undefined);
}

/** Redis pub/sub with separate publisher and subscriber connections. */
export function createRedisEventBus(publisher: Redis, subscriber: Redis, prefix: string, logger: Logger): EventBus {
  const engine = new RedisPubSub({
    publisher,
    subscriber,
    serializer: encodeEvent,
    deserializer: (source) => decodeEvent(source),
  });
  // The Redis clients are owned and closed by the app.
  return new EngineEventBus(engine, prefix, logger, true, false, async () => undefined);
}

/** type-graphql's `pubSub` option. */
export function typeGraphqlPubSub(bus: EventBus) {
  return {
    publish: (topic: string, payload: unknown) => void bus.publish(topic, payload),
    subscribe: (topic: string) => bus.subscribe(topic),
  };
}
