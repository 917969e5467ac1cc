import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import type { SqlPool } from './sql';

/** Who is making the request: set when a valid bearer token came with it. */
export interface Viewer {
  userId: string;
  sessionId: string;
}

/** Per-request DataLoaders, created on first use and dropped with the request. */
export class Loaders {
  private readonly loaders = new Map<string, DataLoader<unknown, unknown>>();

  get<K, V>(name: string, batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>, options?: DataLoader.Options<K, V, K>): DataLoader<K, V> {
    let loader = this.loaders.get(name) as DataLoader<K, V> | undefined;
    if (!loader) {
      loader = new DataLoader<K, V>(batch, options);
      this.loaders.set(name, loader as DataLoader<unknown, unknown>);
    }
    return loader;
  }

  /** After a write, so later reads in the same request see it. */
  clearAll(): void {
    for (const loader of this.loaders.values()) loader.clearAll();
  }
}

/** The GraphQL context, over HTTP and over graphql-ws alike. */
export interface RequestContext {
  /** The HTTP request id (x-request-id); null over graphql-ws. */
  requestId: string | null;
  transport: 'http' | 'ws';
  /** A fork of the ORM's EntityManager for this request (or subscription event). */
  em: EntityManager;
  /** Plain SQL for hot reads (shared by the instance). */
  sql: SqlPool;
  viewer: Viewer | null;
  ip: string | null;
  userAgent: string | null;
  loaders: Loaders;
}

/** The lazily created parts of a context: nothing is allocated for what a request does not use. */
class LazyContextParts {
  private fork: EntityManager | undefined;
  private requestLoaders: Loaders | undefined;

  constructor(
    private readonly orm: MikroORM,
    readonly sql: SqlPool,
  ) {}

  get em(): EntityManager {
    return (this.fork ??= this.orm.em.fork());
  }

  set em(fork: EntityManager) {
    this.fork = fork;
  }

  get loaders(): Loaders {
    return (this.requestLoaders ??= new Loaders());
  }
}

/**
 * A request's context with its EntityManager forked and its loaders created on first use:
 * requests served by plain SQL (sessions, history, sends) never pay for a fork, and a
 * subscription event that reads nothing creates nothing. Extra fields (the realtime engine
 * for graphql-ws) come along as given.
 */
export function createRequestContext<F extends Omit<RequestContext, 'em' | 'sql' | 'loaders'>>(
  { orm, sql }: { orm: MikroORM; sql: SqlPool },
  fields: F,
): F & RequestContext {
  return Object.assign(new LazyContextParts(orm, sql), fields) as unknown as F & RequestContext;
}
