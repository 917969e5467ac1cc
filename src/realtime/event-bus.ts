import { PubSub, PubSubEngine } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Cluster } from 'ioredis';
import type { RedisClient } from '../shared/redis';
import type { Logger } from '../shared/logger';
import { ServiceUnavailableError } from '../shared/errors';
import { decodeEvent, encodeEvent } from './codec';

export type Unsubscribe = () => void;

/**
 * A listener object: what a long-lived stream registers, instead of a closure per topic
 * (thousands of subscriptions per instance make per-listener allocations count).
 */
export interface BusListener {
  onBusEvent(payload: unknown): void;
}

type Listener = ((payload: unknown) => void) | BusListener;

/**
 * The pub/sub port. Topics are per channel and per user (see domain/topics.ts), never one
 * global topic filtered per subscriber. Publishing never throws: a failed publish is
 * logged and counted, because the write it follows has already committed and clients
 * recover missed events with their cursor.
 */
export interface EventBus {
  readonly distributed: boolean;
  publish(topic: string, payload: unknown): Promise<void>;
  /** Several events for one topic, in order, as one message (a batch of sends). */
  publishAll(topic: string, payloads: readonly unknown[]): Promise<void>;
  /** Resolves once the subscription is active, so nothing published afterwards is missed. */
  listen<T>(topic: string, onEvent: (payload: T) => void): Promise<Unsubscribe>;
  /** listen() for a listener object; it stops with detach(). */
  attach(topic: string, listener: BusListener): Promise<void>;
  detach(topic: string, listener: BusListener): void;
  readonly stats: { published: number; publishFailures: number };
  /**
   * Calls `callback` each time the connection to the broker is back after it was lost
   * (never for the in-process bus): events published meanwhile were not delivered.
   */
  onRestored(callback: () => void): void;
  close(): Promise<void>;
}

/** The key of a message carrying several events (publishAll); listeners get them one by one. */
const BATCH = '$events';

/** How long one turn of the event loop hands events to listeners before it lets other work in. */
const DISPATCH_SLICE_MS = 4;
/** Topics with fewer listeners than this are dispatched in one go (no bookkeeping). */
const SLICED_FROM_LISTENERS = 256;
/** Deliveries (a listener handed one event) between two looks at the clock. */
const DELIVERIES_PER_CLOCK_CHECK = 64;
/** Events of one topic that wait together are handed to each listener together, at most this many at a time. */
const MAX_EVENTS_PER_RUN = 16;

/** Consecutive events of one topic, handed to each of its listeners one after the other. */
interface Run {
  topic: string;
  listeners: Set<Listener>;
  payloads: unknown[];
}

/**
 * Hands events to listeners in publish order, in slices of a few milliseconds: one message
 * to a channel with tens of thousands of subscribers would otherwise hold the event loop for
 * as long as it takes to write to every socket, and every other request (the next send
 * included) would wait behind it.
 *
 * Events of one topic that queue up behind each other (delivery is behind) form a run, and
 * each listener gets the whole run at once: a socket then receives several frames in one turn,
 * which the transport writes with two system calls at most (ws-transport.ts WriteBatch: the
 * first at once, the rest corked together), and its reader reads them in as few. A run
 * reaches all its listeners before the next run starts, so every listener still sees events
 * in order.
 */
class Dispatcher {
  private readonly queue: Run[] = [];
  /** The run being delivered; it takes no more events. */
  private current: { topic: string; payloads: unknown[]; listeners: Iterator<Listener> } | null = null;
  private running = false;
  private scheduled = false;
  private readonly resume = () => {
    this.scheduled = false;
    this.run();
  };

  constructor(private readonly logger: Logger) {}

  dispatch(topic: string, listeners: Set<Listener>, payload: unknown): void {
    if (!this.running && this.current === null && this.queue.length === 0 && listeners.size < SLICED_FROM_LISTENERS) {
      for (const one of listeners) this.call(topic, one, payload);
      return;
    }
    const last = this.queue.length > 0 ? this.queue[this.queue.length - 1] : null;
    if (last !== null && last.listeners === listeners && last.payloads.length < MAX_EVENTS_PER_RUN) last.payloads.push(payload);
    else this.queue.push({ topic, listeners, payloads: [payload] });
    if (!this.running && !this.scheduled) this.run();
  }

  private call(topic: string, one: Listener, payload: unknown): void {
    try {
      if (typeof one === 'function') one(payload);
      else one.onBusEvent(payload);
    } catch (error) {
      this.logger.error({ topic, err: (error as Error).message }, 'event handler failed');
    }
  }

  private run(): void {
    this.running = true;
    const deadline = performance.now() + DISPATCH_SLICE_MS;
    let delivered = 0;
    let nextClockCheck = DELIVERIES_PER_CLOCK_CHECK;
    try {
      for (;;) {
        if (this.current === null) {
          const next = this.queue.shift();
          if (!next) return;
          this.current = { topic: next.topic, payloads: next.payloads, listeners: next.listeners.values() };
        }
        const { topic, payloads, listeners } = this.current;
        for (;;) {
          const step = listeners.next();
          if (step.done) {
            this.current = null;
            break;
          }
          for (const payload of payloads) this.call(topic, step.value, payload);
          delivered += payloads.length;
          if (delivered >= nextClockCheck) {
            nextClockCheck = delivered + DELIVERIES_PER_CLOCK_CHECK;
            if (performance.now() > deadline) {
              this.scheduled = true;
              setImmediate(this.resume);
              return;
            }
          }
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/** One engine subscription per topic, shared by every listener of this instance. */
interface TopicEntry {
  listeners: Set<Listener>;
  /** Resolves with the engine's subscription id once it is active. */
  active: Promise<number>;
}

class EngineEventBus implements EventBus {
  readonly stats = { published: 0, publishFailures: 0 };
  private readonly topics = new Map<string, TopicEntry>();
  private readonly dispatcher: Dispatcher;

  constructor(
    private readonly engine: PubSubEngine,
    private readonly prefix: string,
    private readonly logger: Logger,
    readonly distributed: boolean,
    private readonly encodeForEngine: boolean,
    private readonly onClose: () => Promise<void>,
    private readonly watchRestored: (callback: () => void) => void = () => undefined,
    /** For a broker: whether it is connected, and how long a new subscription may take before it fails. */
    private readonly broker: { connected(): boolean; subscribeTimeoutMs: number } | null = null,
  ) {
    this.dispatcher = new Dispatcher(logger);
  }

  onRestored(callback: () => void): void {
    this.watchRestored(callback);
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    await this.send(topic, payload, 1);
  }

  async publishAll(topic: string, payloads: readonly unknown[]): Promise<void> {
    if (payloads.length === 0) return;
    await this.send(topic, payloads.length === 1 ? payloads[0] : { [BATCH]: payloads }, payloads.length);
  }

  private async send(topic: string, message: unknown, events: number): Promise<void> {
    try {
      await this.engine.publish(this.prefix + topic, this.encodeForEngine ? encodeEvent(message) : message);
      this.stats.published += events;
    } catch (error) {
      this.stats.publishFailures += events;
      this.logger.error({ topic, err: (error as Error).message }, 'event publish failed');
    }
  }

  /**
   * Listeners of one topic share a single engine subscription (one Redis SUBSCRIBE per
   * instance, however many clients follow the topic); the engine decodes each message once,
   * and every listener receives the same payload object, in the order they started listening.
   * A listener added twice to a topic is there once.
   */
  async listen<T>(topic: string, onEvent: (payload: T) => void): Promise<Unsubscribe> {
    const listener = onEvent as (payload: unknown) => void;
    await this.add(topic, listener);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.remove(topic, listener);
    };
  }

  attach(topic: string, listener: BusListener): Promise<void> {
    return this.add(topic, listener);
  }

  detach(topic: string, listener: BusListener): void {
    this.remove(topic, listener);
  }

  private async add(topic: string, listener: Listener): Promise<void> {
    let entry = this.topics.get(topic);
    if (!entry) {
      const listeners = new Set<Listener>();
      const dispatch = (message: unknown) => {
        const payload = this.encodeForEngine ? decodeEvent(message as string) : message;
        const batch = payload !== null && typeof payload === 'object' ? (payload as { [BATCH]?: unknown[] })[BATCH] : undefined;
        if (Array.isArray(batch)) for (const one of batch) this.dispatcher.dispatch(topic, listeners, one);
        else this.dispatcher.dispatch(topic, listeners, payload);
      };
      // While the broker is away a new subscription would wait for it: it fails at once instead.
      if (this.broker && !this.broker.connected()) throw new ServiceUnavailableError('Live events are unavailable; retry later.');
      const subscribing = Promise.resolve(this.engine.subscribe(this.prefix + topic, dispatch, {}));
      const created: TopicEntry = { listeners, active: this.broker ? this.timed(subscribing, this.broker.subscribeTimeoutMs) : subscribing };
      entry = created;
      this.topics.set(topic, created);
      // A failed SUBSCRIBE leaves nothing behind: the next listener tries again.
      created.active.catch(() => {
        if (this.topics.get(topic) === created) this.topics.delete(topic);
      });
    }
    const current = entry;
    current.listeners.add(listener);
    try {
      await current.active;
    } catch (error) {
      current.listeners.delete(listener);
      throw error;
    }
  }

  /** The subscription, or SERVICE_UNAVAILABLE after `ms` (a frozen broker); one that completes later is undone. */
  private timed(subscribing: Promise<number>, ms: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(new ServiceUnavailableError('Live events are unavailable; retry later.'));
      }, ms);
      subscribing.then(
        (id) => {
          clearTimeout(timer);
          if (late) this.engine.unsubscribe(id);
          else resolve(id);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private remove(topic: string, listener: Listener): void {
    const current = this.topics.get(topic);
    if (!current || !current.listeners.delete(listener) || current.listeners.size > 0) return;
    this.topics.delete(topic);
    void current.active
      .then((id) => this.engine.unsubscribe(id))
      .catch((error: Error) => this.logger.warn({ topic, err: error.message }, 'unsubscribe failed'));
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

/** In-process pub/sub for a single instance. Payloads are still encoded, so they behave as over Redis. */
export function createLocalEventBus(prefix: string, logger: Logger): EventBus {
  return new EngineEventBus(new PubSub(), prefix, logger, false, true, async () => undefined);
}

/**
 * Redis pub/sub with separate publisher and subscriber connections. On a Redis Cluster,
 * sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7): each topic lives on the shard owning its
 * slot, so an event travels only to that shard instead of being broadcast to every node.
 */
export function createRedisEventBus(publisher: RedisClient, subscriber: RedisClient, prefix: string, logger: Logger, subscribeTimeoutMs = 2000): EventBus {
  const engine =
    publisher.isCluster && subscriber.isCluster
      ? new ShardedPubSub(publisher as Cluster, subscriber as Cluster)
      : new RedisPubSub({
          publisher: publisher as Exclude<RedisClient, Cluster>,
          subscriber: withHandledUnsubscribes(subscriber as Exclude<RedisClient, Cluster>),
          serializer: encodeEvent,
          deserializer: (source) => decodeEvent(source),
        });
  // The Redis clients are owned and closed by the app.
  const watchRestored = (callback: () => void) => {
    let lost = false;
    subscriber.on('close', () => (lost = true));
    subscriber.on('ready', () => {
      if (!lost) return;
      lost = false;
      callback();
    });
  };
  const broker = { connected: () => subscriber.status === 'ready', subscribeTimeoutMs };
  return new EngineEventBus(engine, prefix, logger, true, false, async () => undefined, watchRestored, broker);
}

/**
 * graphql-redis-subscriptions sends UNSUBSCRIBE and PUNSUBSCRIBE without a handler. Queued while
 * the subscriber reconnects and flushed when the app stops meanwhile ("Connection is closed"),
 * they rejected unhandled; a failed unsubscribe needs nothing done (the connection is gone).
 */
function withHandledUnsubscribes(subscriber: Exclude<RedisClient, Cluster>): Exclude<RedisClient, Cluster> {
  for (const name of ['unsubscribe', 'punsubscribe'] as const) {
    const send = subscriber[name].bind(subscriber) as (...channels: string[]) => Promise<unknown>;
    Object.defineProperty(subscriber, name, {
      configurable: true,
      value: (...channels: string[]) => {
        const sent = send(...channels);
        sent.catch(() => undefined);
        return sent;
      },
    });
  }
  return subscriber;
}

/**
 * The engine for sharded pub/sub on a cluster (graphql-redis-subscriptions speaks only
 * classic pub/sub). ioredis routes SSUBSCRIBE to the master owning the channel's slot and
 * subscribes again on the new owner after a failover (its `shardedSubscribers` option).
 * Each message is decoded once for all handlers of its channel.
 */
class ShardedPubSub extends PubSubEngine {
  private readonly handlers = new Map<string, Map<number, (payload: unknown) => void>>();
  private readonly channelOf = new Map<number, string>();
  private nextId = 0;

  constructor(
    private readonly publisher: Cluster,
    private readonly subscriber: Cluster,
  ) {
    super();
    subscriber.on('smessage', (channel: string, message: string) => {
      const handlers = this.handlers.get(channel);
      if (!handlers) return;
      const payload = decodeEvent(message);
      for (const handler of handlers.values()) handler(payload);
    });
  }

  override async publish(channel: string, payload: unknown): Promise<void> {
    await this.publisher.spublish(channel, encodeEvent(payload));
  }

  override async subscribe(channel: string, onMessage: (payload: unknown) => void): Promise<number> {
    const id = ++this.nextId;
    let handlers = this.handlers.get(channel);
    const first = !handlers;
    if (!handlers) this.handlers.set(channel, (handlers = new Map()));
    handlers.set(id, onMessage);
    this.channelOf.set(id, channel);
    if (first) {
      try {
        await this.subscriber.ssubscribe(channel);
      } catch (error) {
        this.unsubscribe(id);
        throw error;
      }
    }
    return id;
  }

  override unsubscribe(id: number): void {
    const channel = this.channelOf.get(id);
    if (channel === undefined) return;
    this.channelOf.delete(id);
    const handlers = this.handlers.get(channel);
    handlers?.delete(id);
    if (handlers && handlers.size === 0) {
      this.handlers.delete(channel);
      void this.subscriber.sunsubscribe(channel).catch(() => undefined);
    }
  }
}

