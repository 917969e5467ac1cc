import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Config } from '../config';
import type DataLoader from 'dataloader';
import { sharedBatchLoader } from '../shared/batch';
import type { PendingSessionCheck, RequestScope, SessionCheckClaim, SessionLiveness, SessionState, Viewer } from '../shared/context';
import { isConnectionFailure, ServiceUnavailableError } from '../shared/errors';
import type { SqlClient, SqlPool } from '../shared/sql';
import type { UserSnapshot } from '../domain/snapshots';
import { insertSession, type SessionRow, type SessionUserRow, sessionsById, sessionsWithUsersByTokenHash, touchSession, userJsonSnapshot } from './account.queries';

const SIGNED_OUT = Object.freeze({ viewer: null, user: null });

/** How often a session's lastUsedAt is written at most; reads in between do not write. */
const MAX_TOUCH_INTERVAL_MS = 60_000;

/** Tokens remembered as seen live (SessionService.speculate), the oldest forgotten first: about 200 bytes each. */
const KNOWN_TOKENS_LIMIT = 10_000;

/** Where a request comes from (a RequestScope is one). */
export type ClientInfo = Pick<RequestScope, 'ip' | 'userAgent'>;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** `Authorization: Bearer <token>` (or the bare token) to the token, or null. */
export function parseBearer(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^\s*Bearer\s+([A-Za-z0-9_-]{20,200})\s*$/i.exec(header);
  return match ? match[1] : null;
}

/**
 * Opaque bearer sessions: 256 random bits, stored only as a SHA-256 hash, with idle and
 * absolute expiry. Every lookup reads PostgreSQL (one indexed row), so a revocation or an
 * expiry takes effect at once on every instance; lookups of concurrent requests share one
 * statement.
 */
export class SessionService {
  private readonly touchIntervalMs: number;
  private readonly lookups: DataLoader<string, SessionUserRow | null>;
  private readonly checks: DataLoader<string, SessionRow | null>;
  /** Token hashes this instance has seen live, with their viewer: a session's id and user never change (speculate). */
  private readonly known = new Map<string, Viewer>();
  /** What a SpeculativeSession asks of this service. */
  private readonly speculation: SessionChecks;

  constructor(
    private readonly sql: SqlPool,
    private readonly auth: Config['auth'],
  ) {
    // Touch often enough that a session in use never reaches its idle expiry.
    this.touchIntervalMs = Math.min(MAX_TOUCH_INTERVAL_MS, (auth.sessionIdleTtlSeconds * 1000) / 4);
    this.lookups = sharedBatchLoader(async (hashes) => {
      const rows = await sessionsWithUsersByTokenHash(this.sql, hashes);
      const byHash = new Map(rows.map((row) => [row.token_hash, row]));
      return hashes.map((hash) => byHash.get(hash) ?? null);
    });
    this.checks = sharedBatchLoader(async (ids) => {
      const rows = await sessionsById(this.sql, ids);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    });
    this.speculation = {
      liveness: { idleSeconds: auth.sessionIdleTtlSeconds, touchAfterSeconds: this.touchIntervalMs / 1000 },
      lookup: (hash) => this.lookupHash(hash),
      stillLive: async (sessionId, state) => state !== null && this.inUse(sessionId, state),
      forget: (hash) => void this.known.delete(hash),
    };
  }

  /** A new session of the user (in the caller's transaction): the bearer token to hand out. */
  async create(db: SqlClient, userId: string, client: ClientInfo): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    await insertSession(db, {
      id: randomUUID(),
      userId,
      tokenHash: hashToken(token),
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.auth.sessionAbsoluteTtlSeconds * 1000),
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
    });
    return token;
  }

  /** The viewer of an `Authorization` value (`Bearer <token>` or the bare token), or null. */
  authenticateHeader(authorization: unknown): Promise<Viewer | null> {
    return this.authenticate(parseBearer(authorization));
  }

  /**
   * An HTTP request's viewer and the viewer's user row, read with the session in the same
   * statement (`me`, and every `author` that is the viewer, then cost no lookup of their own).
   */
  authenticateRequest(authorization: unknown): Promise<{ viewer: Viewer | null; user: UserSnapshot | null }> {
    return this.lookup(parseBearer(authorization));
  }

  /**
   * An HTTP request's viewer before its session is checked, for a token this instance has seen
   * live: the request runs at once, and its answer waits for the check, which its first
   * statement able to carry it makes along with its own rows (a deep history page), or else
   * one statement of its own as authenticateRequest would (PendingSessionCheck). Null for a
   * token not seen here: authenticateRequest. What a request may do before the check passes
   * is the caller's to bound (graphql-http.ts: reads, and sends whose statement makes the
   * check; answered again when it fails).
   */
  speculate(authorization: unknown): SpeculativeSession | null {
    const token = parseBearer(authorization);
    if (!token) return null;
    const hash = hashToken(token);
    const viewer = this.known.get(hash);
    return viewer ? new SpeculativeSession(this.speculation, hash, viewer) : null;
  }

  /** The viewer a token belongs to, or null when it is unknown, revoked or expired. */
  async authenticate(token: string | null): Promise<Viewer | null> {
    return (await this.lookup(token)).viewer;
  }

  /** A token's viewer and their user row, or nulls when the token is unknown, revoked or expired. */
  private lookup(token: string | null): Promise<{ viewer: Viewer | null; user: UserSnapshot | null }> {
    return token ? this.lookupHash(hashToken(token)) : Promise.resolve(SIGNED_OUT);
  }

  private async lookupHash(hash: string): Promise<{ viewer: Viewer | null; user: UserSnapshot | null }> {
    try {
      const row = await this.lookups.load(hash);
      if (!row) return SIGNED_OUT;
      const session = { revokedAt: row.revoked_at, expiresAt: new Date(row.expires_at), lastUsedAt: new Date(row.last_used_at) };
      if (!(await this.inUse(row.id, session))) return SIGNED_OUT;
      const user = userJsonSnapshot(row.user_row);
      const viewer = { userId: row.user_id, sessionId: row.id };
      this.remember(hash, viewer);
      return { viewer, user };
    } catch (error) {
      // Runs while the request context is built, before any resolver: answer as they would.
      if (isConnectionFailure(error)) throw new ServiceUnavailableError();
      throw error;
    }
  }

  /**
   * An open socket's session checked again (each operation it starts, its expiry, a
   * reconnected event bus): when it expires (epoch ms, the earlier of its idle and absolute
   * expiry), or null when it is revoked or expired. An operation counts as use, as an HTTP
   * request does (`touch`). Checks of concurrent operations share one statement.
   */
  async sessionDeadline(sessionId: string, { touch }: { touch: boolean }): Promise<number | null> {
    try {
      const row = await this.checks.load(sessionId);
      if (!row) return null;
      const session = { revokedAt: row.revoked_at, expiresAt: new Date(row.expires_at), lastUsedAt: new Date(row.last_used_at) };
      if (!this.isLive(session)) return null;
      let lastUsedAt = session.lastUsedAt.getTime();
      const now = Date.now();
      if (touch && now - lastUsedAt > this.touchIntervalMs) {
        await touchSession(this.sql, row.id, new Date(now));
        lastUsedAt = now;
      }
      return Math.min(session.expiresAt.getTime(), lastUsedAt + this.auth.sessionIdleTtlSeconds * 1000);
    } catch (error) {
      if (isConnectionFailure(error)) throw new ServiceUnavailableError();
      throw error;
    }
  }

  /** Whether a session read for a request is live; a live one counts as used (lastUsedAt written when due). */
  private async inUse(sessionId: string, session: { revokedAt: Date | string | null; expiresAt: Date; lastUsedAt: Date }): Promise<boolean> {
    if (!this.isLive(session)) return false;
    const now = Date.now();
    if (now - session.lastUsedAt.getTime() > this.touchIntervalMs) await touchSession(this.sql, sessionId, new Date(now));
    return true;
  }

  private remember(hash: string, viewer: Viewer): void {
    if (this.known.has(hash)) return;
    if (this.known.size >= KNOWN_TOKENS_LIMIT) this.known.delete(this.known.keys().next().value as string);
    this.known.set(hash, viewer);
  }

  private isLive(session: { revokedAt: Date | string | null; expiresAt: Date; lastUsedAt: Date }): boolean {
    const now = Date.now();
    if (session.revokedAt) return false;
    if (session.expiresAt.getTime() <= now) return false;
    return session.lastUsedAt.getTime() + this.auth.sessionIdleTtlSeconds * 1000 > now;
  }
}

/** SessionService's part in a SpeculativeSession. */
interface SessionChecks {
  /** How a statement that judges liveness itself judges it (isLive and inUse, in SQL). */
  liveness: SessionLiveness;
  /** The full lookup of authenticateRequest: session and user row. */
  lookup(hash: string): Promise<{ viewer: Viewer | null; user: UserSnapshot | null }>;
  /** Whether a session read along by another statement is live (touching it when due). */
  stillLive(sessionId: string, state: SessionState | null): Promise<boolean>;
  /** The token's session is no longer live (or could not be checked): speculate no more. */
  forget(hash: string): void;
}

/** A request's session check still to be made (SessionService.speculate; PendingSessionCheck). */
export class SpeculativeSession implements PendingSessionCheck {
  user: UserSnapshot | null = null;
  /**
   * Whether the session is live, once checked. Never rejects: a check that failed counts as
   * not live, and the request is then answered the usual way, which fails as it would have.
   */
  readonly verdict: Promise<boolean>;
  private resolve!: (live: boolean) => void;
  private taken = false;

  constructor(
    private readonly sessions: SessionChecks,
    private readonly hash: string,
    readonly viewer: Viewer,
  ) {
    this.verdict = new Promise((resolve) => {
      this.resolve = resolve;
    });
    // The request's statements go out in the loop's check phase (batches, shared/batch.ts),
    // after it has run as far as it can: unclaimed by then, the check goes out with them.
    setImmediate(() => void this.confirm());
  }

  claim(): SessionCheckClaim | null {
    if (this.taken) return null;
    this.taken = true;
    return {
      sessionId: this.viewer.sessionId,
      liveness: this.sessions.liveness,
      settle: (state) => {
        this.user = state?.user ?? null;
        this.decide(this.sessions.stillLive(this.viewer.sessionId, state));
      },
      decided: (live) => this.decide(Promise.resolve(live)),
      fail: () => {
        this.taken = false;
        void this.confirm();
      },
    };
  }

  confirm(): Promise<boolean> {
    if (!this.taken) {
      this.taken = true;
      this.decide(
        this.sessions.lookup(this.hash).then(({ viewer, user }) => {
          this.user = user;
          return viewer !== null && viewer.sessionId === this.viewer.sessionId;
        }),
      );
    }
    return this.verdict;
  }

  private decide(live: Promise<boolean>): void {
    live.then(
      (isLive) => {
        if (!isLive) this.sessions.forget(this.hash);
        this.resolve(isLive);
      },
      () => {
        this.sessions.forget(this.hash);
        this.resolve(false);
      },
    );
  }
}
