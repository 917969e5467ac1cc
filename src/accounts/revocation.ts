import type { EventBus, Unsubscribe } from '../realtime/event-bus';
import { Topic, type UserTopicEvent } from '../realtime/topics';
import type { Viewer } from '../shared/context';
import type { Logger } from '../shared/logger';
import type { SessionService } from './session.service';

interface Watch {
  sockets: number;
  listening: Promise<Unsubscribe | null>;
}

/**
 * Closes this instance's sockets when their session is revoked on any instance: it listens
 * on the user topic of every user with an open socket here (from the first socket to the
 * last) and hands `SessionsRevoked` session ids to `closeSessions`.
 */
export class RevocationWatcher {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly bus: EventBus,
    private readonly sessions: SessionService,
    private readonly logger: Logger,
    private readonly closeSessions: (sessionIds: readonly string[]) => unknown,
  ) {}

  /** A socket authenticated as `viewer` opened on this instance. */
  socketOpened(viewer: Viewer): void {
    let watch = this.watches.get(viewer.userId);
    if (!watch) {
      const listening = this.bus
        .listen<UserTopicEvent>(Topic.user(viewer.userId), (event) => {
          // A tick later, so a logout sent over the socket itself still gets its answer first.
          if (event.type === 'SessionsRevoked') setImmediate(() => this.closeSessions(event.sessionIds));
        })
        .catch((error: Error) => {
          this.logger.error({ err: error.message }, 'could not listen for session revocations');
          return null;
        });
      watch = { sockets: 0, listening };
      this.watches.set(viewer.userId, watch);
    }
    watch.sockets += 1;
    // A revocation published between authentication and the listener becoming active
    // would be missed: once listening, check the session once more.
    void watch.listening
      .then(async () => {
        if (!(await this.sessions.isActive(viewer.sessionId))) this.closeSessions([viewer.sessionId]);
      })
      .catch((error: Error) => this.logger.warn({ err: error.message }, 'session recheck failed'));
  }

  /** A socket of `viewer` closed; the last one of the user stops the listener. */
  socketClosed(viewer: Viewer): void {
    const watch = this.watches.get(viewer.userId);
    if (!watch) return;
    watch.sockets -= 1;
    if (watch.sockets > 0) return;
    this.watches.delete(viewer.userId);
    void watch.listening.then((unsubscribe) => unsubscribe?.());
  }

  /** Stops every listener (on shutdown). */
  close(): void {
    for (const watch of this.watches.values()) void watch.listening.then((unsubscribe) => unsubscribe?.());
    this.watches.clear();
  }

  /** Whether this instance listens on the user's topic (for tests and metrics). */
  isWatching(userId: string): boolean {
    return this.watches.has(userId);
  }
}
