import DataLoader from 'dataloader';
import type { UserSnapshot } from '../domain/snapshots';
import { UnauthenticatedError } from './errors';

/** Who is making the request: set when a valid bearer token came with it. */
export interface Viewer {
  userId: string;
  sessionId: string;
}

/** A session's state as a statement reads it along with its own rows (SessionCheckClaim). */
export interface SessionState {
  revokedAt: Date | null;
  expiresAt: Date;
  lastUsedAt: Date;
  /** The session's user row, read with it. */
  user: UserSnapshot | null;
}

/**
 * An HTTP request's session check still to be made: its viewer came from an earlier lookup of
 * the same token on this instance (a session's user never changes), and its answer waits for
 * this check (accounts/session.service.ts). The first statement of the request that reads the
 * session along with its own rows claims it; unclaimed, the sessions feature makes it alone.
 */
export interface PendingSessionCheck {
  /** The check for a statement to carry, or null when another statement has taken it. */
  claim(): SessionCheckClaim | null;
  /** Makes the check now unless a statement carries it; whether the session is live. */
  confirm(): Promise<boolean>;
  /** Whether the session is live, once checked (by a statement or alone); never rejects. */
  readonly verdict: Promise<boolean>;
  /** The viewer's user row once read with the session (null before). */
  readonly user: UserSnapshot | null;
}

/** How a statement that judges a session's liveness itself judges it (a write that must not happen for a dead session). */
export interface SessionLiveness {
  /** Unused this long, a session has expired. */
  idleSeconds: number;
  /** Used longer ago than this, a live session's lastUsedAt is written again. */
  touchAfterSeconds: number;
}

/** A claimed session check: the statement that carries it settles it. */
export interface SessionCheckClaim {
  readonly sessionId: string;
  readonly liveness: SessionLiveness;
  /** The session as the statement read it (null: no such session). */
  settle(state: SessionState | null): void;
  /** The statement judged the session itself by `liveness` (and touched it when due). */
  decided(live: boolean): void;
  /** The statement failed: the check is made alone. */
  fail(): void;
}

/**
 * A read that carries the request's pending session check when it has one still to claim:
 * `read` gets the session id to read along (null: none), and the check is settled with the
 * session `sessionOf` finds in its result; a failed read hands the check back.
 */
export async function carryingSessionCheck<T>(check: PendingSessionCheck | null | undefined, read: (sessionId: string | null) => Promise<T>, sessionOf: (result: T) => SessionState | null): Promise<T> {
  const claim = check?.claim() ?? null;
  let result: T;
  try {
    result = await read(claim?.sessionId ?? null);
  } catch (error) {
    claim?.fail();
    throw error;
  }
  claim?.settle(sessionOf(result));
  return result;
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
  /** HTTP: the session check this request's answer waits for, when the viewer came before it (PendingSessionCheck). */
  readonly sessionCheck?: PendingSessionCheck;
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

/** The viewer's user row as this request read it with the session (viewerUser, or its pending check's), if it did. */
export function viewerRow(scope: Pick<RequestScope, 'viewerUser' | 'sessionCheck'>): UserSnapshot | null | undefined {
  return scope.viewerUser ?? scope.sessionCheck?.user ?? undefined;
}

/** The signed-in viewer of a scope; UNAUTHENTICATED when signed out. */
export function requireViewer(scope: Pick<RequestScope, 'viewer'>): Viewer {
  if (!scope.viewer) throw new UnauthenticatedError();
  return scope.viewer;
}
