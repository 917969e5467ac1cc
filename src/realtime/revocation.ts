import type { BusListener, EventBus } from './event-bus';
import { type SessionTopicEvent, Topic } from '../domain/topics';
import type { Viewer } from '../shared/context';
import type { Logger } from '../shared/logger';

/** How long a revocation is remembered for sockets that were connecting while it happened. */
const RECENT_REVOCATION_MS = 60_000;

/**
 * Closes this instance's sockets when their session is revoked on any instance: it listens
 * on the sessions topic (from start to stop) and hands `SessionsRevoked` session ids to
 * `closeSessions`, which looks them up in the instance's index of open sockets.
 *
 * A socket authenticates (reading its session) before it is indexed; a revocation that lands
 * in between would find nothing to close. So revoked session ids are remembered for a
 * minute, and a socket whose session is among them closes as soon as it is indexed. Since
 * the listener is active before any socket authenticates, every revocation after a
 * socket's session lookup is seen one way or the other.
 */
export class RevocationWatcher implements BusListener {
  private readonly recent = new Map<string, number>();
  private listening = false;

  constructor(
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly closeSessions: (sessionIds: readonly string[]) => unknown,
  ) {}

  /** Starts listening; resolves once the listener is active. */
  async start(): Promise<void> {
    if (this.listening) return;
    this.listening = true;
    await this.bus.attach(Topic.sessions(), this).catch((error: Error) => {
      this.listening = false;
      this.logger.error({ err: error.message }, 'could not listen for session revocations');
      throw error;
    });
  }

  onBusEvent(payload: unknown): void {
    const event = payload as SessionTopicEvent;
    if (event.type !== 'SessionsRevoked') return;
    const now = Date.now();
    for (const [sessionId, until] of this.recent) {
      if (until > now) break;
      this.recent.delete(sessionId);
    }
    for (const sessionId of event.sessionIds) this.recent.set(sessionId, now + RECENT_REVOCATION_MS);
    // A tick later, so a logout sent over the socket itself still gets its answer first.
    setImmediate(() => this.closeSessions(event.sessionIds));
  }

  /** A socket authenticated as `viewer` was indexed: closed at once if its session was just revoked. */
  socketOpened(viewer: Viewer): void {
    const until = this.recent.get(viewer.sessionId);
    if (until !== undefined && until > Date.now()) setImmediate(() => this.closeSessions([viewer.sessionId]));
  }

  /** Stops listening (on shutdown). */
  close(): void {
    if (this.listening) this.bus.detach(Topic.sessions(), this);
    this.listening = false;
    this.recent.clear();
  }

  /** Whether revocations reach this instance (for tests and metrics). */
  get isListening(): boolean {
    return this.listening;
  }
}
