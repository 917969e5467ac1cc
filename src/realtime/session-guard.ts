import type { Logger } from '../shared/logger';

/** An operation on a socket whose session was checked less than this long ago starts without a new check. */
export const SESSION_RECHECK_MS = 1000;
/** setTimeout's longest delay; a later expiry is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The sessions feature's answer for an open socket's session (Authenticator.sessionDeadline). */
export type SessionDeadline = (sessionId: string, options: { touch: boolean }) => Promise<number | null>;

interface GuardedSession {
  /** Open sockets of the session on this instance. */
  sockets: number;
  /** When the session expires (epoch ms), as of the last check. */
  deadline: number;
  checkedAt: number;
  timer: NodeJS.Timeout | null;
  /** A check in flight: operations started meanwhile share it. */
  pending: Promise<boolean> | null;
}

/**
 * Keeps the sessions of this instance's open sockets honest without relying on the event
 * bus: a revocation published while Redis was away never arrives, and an expiry publishes
 * nothing. So
 * - every operation started on a socket checks its session in PostgreSQL (batched; an
 *   answer less than SESSION_RECHECK_MS old is reused), and counts as use for idle expiry;
 * - a timer per session fires at its expiry (the earlier of idle and absolute), checks again
 *   (the session may have been used meanwhile) and closes its sockets when it is over;
 * - `recheckAll` (called when the event bus reconnects) checks every open socket's session.
 * A dead session's sockets are closed through `close` (the revocation close code).
 */
export class SessionGuard {
  private readonly sessions = new Map<string, GuardedSession>();

  constructor(
    private readonly deadlineOf: SessionDeadline,
    private readonly close: (sessionId: string, reason: string) => void,
    private readonly logger: Logger,
  ) {}

  /** A socket of the session opened (after authentication). */
  socketOpened(sessionId: string): void {
    const existing = this.sessions.get(sessionId);
    if (existing) {
      existing.sockets += 1;
      return;
    }
    this.sessions.set(sessionId, { sockets: 1, deadline: 0, checkedAt: 0, timer: null, pending: null });
    // Learns the expiry and arms the timer.
    void this.check(sessionId, false).catch(() => undefined);
  }

  socketClosed(sessionId: string): void {
    const entry = this.sessions.get(sessionId);
    if (!entry) return;
    entry.sockets -= 1;
    if (entry.sockets > 0) return;
    if (entry.timer) clearTimeout(entry.timer);
    this.sessions.delete(sessionId);
  }

  /**
   * Whether an operation may start: true at once when the session was checked a moment
   * ago, else after a check. False closes the session's sockets. Rejects (with
   * SERVICE_UNAVAILABLE) when the check cannot be made.
   */
  admit(sessionId: string): boolean | Promise<boolean> {
    const entry = this.sessions.get(sessionId);
    if (!entry) return false;
    const now = Date.now();
    if (now - entry.checkedAt < SESSION_RECHECK_MS && now < entry.deadline) return true;
    return this.check(sessionId, true);
  }

  /** Checks every open socket's session (the event bus reconnected: revocations may have been missed). */
  async recheckAll(): Promise<void> {
    const ids = [...this.sessions.keys()];
    if (ids.length > 0) this.logger.info({ sessions: ids.length }, 'checking the sessions of open sockets again');
    await Promise.all(ids.map((id) => this.check(id, false).catch(() => undefined)));
  }

  /** Stops every timer (shutdown). */
  dispose(): void {
    for (const entry of this.sessions.values()) if (entry.timer) clearTimeout(entry.timer);
    this.sessions.clear();
  }

  private check(sessionId: string, touch: boolean): Promise<boolean> {
    const entry = this.sessions.get(sessionId);
    if (!entry) return Promise.resolve(false);
    if (entry.pending) return entry.pending;
    const pending = this.deadlineOf(sessionId, { touch })
      .then((deadline) => {
        if (this.sessions.get(sessionId) !== entry) return false;
        if (deadline === null || deadline <= Date.now()) {
          this.close(sessionId, 'Session revoked or expired');
          return false;
        }
        entry.deadline = deadline;
        entry.checkedAt = Date.now();
        this.arm(sessionId, entry);
        return true;
      })
      .catch((error: unknown) => {
        // The database is away: keep the timer going so the expiry is looked at again.
        if (this.sessions.get(sessionId) === entry && !entry.timer) this.arm(sessionId, entry, SESSION_RECHECK_MS * 5);
        throw error;
      })
      .finally(() => {
        entry.pending = null;
      });
    entry.pending = pending;
    return pending;
  }

  private arm(sessionId: string, entry: GuardedSession, delay = entry.deadline - Date.now()): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(
      () => {
        entry.timer = null;
        void this.check(sessionId, false).catch(() => undefined);
      },
      Math.min(Math.max(delay, 0) + 5, MAX_TIMER_MS),
    );
    entry.timer.unref();
  }
}
