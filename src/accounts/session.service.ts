import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config';
import type { Viewer } from '../shared/context';
import { Session } from './session.entity';
import { User } from './user.entity';

/** How often a session's lastUsedAt is written at most; reads in between do not write. */
const MAX_TOUCH_INTERVAL_MS = 60_000;

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

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
 * expiry takes effect at once on every instance.
 */
export class SessionService {
  private readonly touchIntervalMs: number;

  constructor(
    private readonly orm: MikroORM,
    private readonly auth: Config['auth'],
  ) {
    // Touch often enough that a session in use never reaches its idle expiry.
    this.touchIntervalMs = Math.min(MAX_TOUCH_INTERVAL_MS, (auth.sessionIdleTtlSeconds * 1000) / 4);
  }

  async create(em: EntityManager, user: User, client: ClientInfo): Promise<{ token: string; session: Session }> {
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    const session = em.create(Session, {
      user,
      tokenHash: hashToken(token),
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + this.auth.sessionAbsoluteTtlSeconds * 1000),
      revokedAt: null,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
    });
    em.persist(session);
    return { token, session };
  }

  /** The viewer a token belongs to, or null when it is unknown, revoked or expired. */
  async authenticate(token: string | null): Promise<Viewer | null> {
    if (!token) return null;
    const em = this.orm.em.fork();
    const session = await em.findOne(Session, { tokenHash: hashToken(token) }, { fields: ['id', 'user', 'lastUsedAt', 'expiresAt', 'revokedAt'] });
    if (!session || !this.isLive(session)) return null;
    const now = Date.now();
    if (now - session.lastUsedAt.getTime() > this.touchIntervalMs) {
      await em.nativeUpdate(Session, { id: session.id, revokedAt: null }, { lastUsedAt: new Date(now) });
    }
    return { userId: session.user.id, sessionId: session.id };
  }

  /** Whether a session (already authenticated once) is still valid: used by open sockets. */
  async isActive(sessionId: string): Promise<boolean> {
    const session = await this.orm.em.fork().findOne(Session, { id: sessionId }, { fields: ['id', 'lastUsedAt', 'expiresAt', 'revokedAt'] });
    return session !== null && this.isLive(session);
  }

  private isLive(session: Pick<Session, 'revokedAt' | 'expiresAt' | 'lastUsedAt'>): boolean {
    const now = Date.now();
    if (session.revokedAt) return false;
    if (session.expiresAt.getTime() <= now) return false;
    return session.lastUsedAt.getTime() + this.auth.sessionIdleTtlSeconds * 1000 > now;
  }
}
