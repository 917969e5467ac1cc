import DataLoader from 'dataloader';
import type { UserSnapshot } from '../domain/snapshots';
import { UnauthenticatedError } from './errors';

/** Who is making the request: set when a valid bearer token came with it. */
export interface Viewer {
  userId: string;
  sessionId: string;
}

/** Per-request DataLoaders, created on first use and dropped with the request. */
export class Loaders {
  private readonly loaders = new Map<string, DataLoader<unknown, unknown>>();

  has(name: string): boolean {
    return this.loaders.has(name);
  }

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

/**
 * What every service method gets about its request: who asks (null when signed out), from
 * where, and the request's loaders. The GraphQL context is one.
 */
export interface RequestScope {
  readonly viewer: Viewer | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly loaders: Loaders;
  /**
   * The viewer's user row, read with the session in the request's one authentication
   * statement (HTTP; absent over graphql-ws, where a socket outlives any row it read).
   */
  readonly viewerUser?: UserSnapshot | null;
}

/** The GraphQL context, over HTTP and over graphql-ws alike. */
export interface RequestContext extends RequestScope {
  /** The HTTP request id (x-request-id); null over graphql-ws. */
  requestId: string | null;
  transport: 'http' | 'ws';
}

/** The lazily created part of a context: nothing is allocated for what a request does not use. */
class LazyLoaders {
  private requestLoaders: Loaders | undefined;

  get loaders(): Loaders {
    return (this.requestLoaders ??= new Loaders());
  }
}

/**
 * A request's context with its loaders created on first use: a subscription event that reads
 * nothing creates nothing. Extra fields (the realtime engine for graphql-ws) come along as given.
 */
export function createRequestContext<F extends Omit<RequestContext, 'loaders'>>(fields: F): F & RequestContext {
  return Object.assign(new LazyLoaders(), fields) as unknown as F & RequestContext;
}

/** The signed-in viewer of a scope; UNAUTHENTICATED when signed out. */
export function requireViewer(scope: Pick<RequestScope, 'viewer'>): Viewer {
  if (!scope.viewer) throw new UnauthenticatedError();
  return scope.viewer;
}
