import type { WebSocket } from 'ws';
import type { Logger } from '../shared/logger';
import { ServerCloseCode } from './close-code';

export interface ConnectionLimitOptions {
  /** Open sockets per client address (signed in or not), from the upgrade on. */
  maxPerAddress: number;
  /** Sockets acknowledged without a token, on this instance. */
  maxAnonymous: number;
  /** An anonymous socket that starts no operation within this time after its ack is closed. */
  anonymousIdleMs: number;
}

/** One refusal log line per reason per this interval, with the count of those left out. */
const WARN_INTERVAL_MS = 10_000;

/**
 * Caps on the sockets one client, or nobody in particular, can hold open on this instance
 * (file descriptors and memory are the server's, not the attacker's): sockets per client
 * address, anonymous sockets in total, and anonymous sockets that sit idle. Refusals close
 * with 4430 (retried by the official client, with its backoff) and are logged at warn.
 */
export class ConnectionLimits {
  private readonly byAddress = new Map<string, number>();
  private readonly addresses = new WeakMap<WebSocket, string>();
  /** Anonymous sockets, with their idle timer until their first operation. */
  private readonly anonymous = new Map<WebSocket, NodeJS.Timeout | null>();
  private readonly warned = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly options: ConnectionLimitOptions,
    private readonly logger: Logger,
  ) {}

  /** A new socket (at the upgrade): false, and the socket closed, when its address has too many. */
  opened(socket: WebSocket, ip: string | null): boolean {
    const address = ip ?? 'unknown';
    const count = this.byAddress.get(address) ?? 0;
    if (count >= this.options.maxPerAddress) {
      this.refuse(socket, 'per-address', address, 'Too many connections from this address');
      return false;
    }
    this.byAddress.set(address, count + 1);
    this.addresses.set(socket, address);
    socket.once('close', () => this.closed(socket));
    return true;
  }

  /**
   * connection_init without a token: false, and the socket closed, over the anonymous cap;
   * else the idle timer starts (stopped by the first operation).
   */
  acknowledgeAnonymous(socket: WebSocket): boolean {
    if (this.anonymous.size >= this.options.maxAnonymous) {
      this.refuse(socket, 'anonymous', this.addresses.get(socket) ?? 'unknown', 'Too many anonymous connections');
      return false;
    }
    const timer = setTimeout(() => {
      if (this.anonymous.get(socket) === timer) socket.close(ServerCloseCode.AnonymousIdle, 'No operation started');
    }, this.options.anonymousIdleMs);
    timer.unref();
    this.anonymous.set(socket, timer);
    return true;
  }

  /** An operation started on the socket: an anonymous socket is no longer idle. */
  operationStarted(socket: WebSocket): void {
    const timer = this.anonymous.get(socket);
    if (!timer) return;
    clearTimeout(timer);
    this.anonymous.set(socket, null);
  }

  get anonymousCount(): number {
    return this.anonymous.size;
  }

  private closed(socket: WebSocket): void {
    const address = this.addresses.get(socket);
    if (address !== undefined) {
      const count = (this.byAddress.get(address) ?? 1) - 1;
      if (count > 0) this.byAddress.set(address, count);
      else this.byAddress.delete(address);
    }
    const timer = this.anonymous.get(socket);
    if (timer) clearTimeout(timer);
    this.anonymous.delete(socket);
  }

  private refuse(socket: WebSocket, reason: 'per-address' | 'anonymous', address: string, message: string): void {
    socket.close(ServerCloseCode.TooManyConnections, message);
    const now = Date.now();
    const last = this.warned.get(reason);
    if (last && now - last.at < WARN_INTERVAL_MS) {
      last.suppressed += 1;
      return;
    }
    this.warned.set(reason, { at: now, suppressed: 0 });
    const limit = reason === 'per-address' ? this.options.maxPerAddress : this.options.maxAnonymous;
    this.logger.warn({ reason, address, limit, suppressedSinceLast: last?.suppressed ?? 0 }, 'WebSocket connection refused: too many connections');
  }
}
