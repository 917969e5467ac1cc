import type http from 'node:http';
import { handleProtocols } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../shared/logger';
import { ServerCloseCode } from './close-code';
import { type Connection, ProtocolViolation, type ProtocolServer, type ProtocolSocket } from './protocol';

/** What the protocol's hooks learn about each connection on this transport. */
export interface TransportExtra {
  readonly socket: WebSocket;
  readonly request: http.IncomingMessage;
}

export interface TransportOptions {
  logger: Logger;
  /** Ping interval; a peer that has not answered the previous ping by the next one is dropped. */
  keepAliveMs: number;
  /** A socket whose unsent data passes this is closed: the client reads too slowly. */
  maxBufferedBytes: number;
  slowConsumerCloseCode: number;
  /** Counted here, read by /metrics. */
  stats?: TransportStats;
}

export interface TransportStats {
  framesSent: number;
  slowConsumers: number;
}

const TEXT_FRAME = { binary: false };

/** The TCP socket under a `ws` socket (ws keeps it in `_socket`), for corking writes. */
type Corkable = { cork(): void; uncork(): void };

/**
 * Writes of one turn of the event loop, per TCP socket: a socket's first frame in a turn is
 * written at once; a second one corks the socket, and one flush in the check phase uncorks
 * them all, so a burst of frames for one socket (events that arrived together) leaves in one
 * system call while a lone event is not held back.
 */
class WriteBatch {
  /** Increases with every flush; a socket compares it with the turn of its last write. */
  turn = 0;
  private readonly corked: Corkable[] = [];
  private scheduled = false;
  private readonly flush = () => {
    this.scheduled = false;
    this.turn += 1;
    const corked = this.corked.splice(0);
    for (const socket of corked) socket.uncork();
  };

  /** A socket wrote in this turn: the turn must end with a flush. */
  wrote(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  cork(socket: Corkable): void {
    socket.cork();
    this.corked.push(socket);
  }
}

/**
 * The header of an unmasked, final text frame (RFC 6455 5.2) of `length` payload bytes, as
 * ws writes it, for frames written in parts (WsProtocolSocket.sendParts). The last few are
 * kept: one event's frames to many sockets mostly share a length.
 */
export class TextFrameHeaders {
  private readonly known = new Map<number, Buffer>();

  for(length: number): Buffer {
    let header = this.known.get(length);
    if (header) return header;
    if (length < 126) header = Buffer.from([0x81, length]);
    else if (length < 65_536) header = Buffer.from([0x81, 126, length >>> 8, length & 0xff]);
    else {
      header = Buffer.alloc(10);
      header[0] = 0x81;
      header[1] = 127;
      header.writeUIntBE(length, 4, 6);
    }
    if (this.known.size >= 16) this.known.clear();
    this.known.set(length, header);
    return header;
  }
}

/** ws's sender state while it writes frames as they come (no compression, no Blob being read): only then may frames go to the TCP socket directly. */
const SENDER_WRITES_THROUGH = 0;

/** The TCP socket under a `ws` socket, when it can be corked and written to directly. */
type DirectTcp = Corkable & { write(chunk: Buffer): boolean };

/** One `ws` socket as the protocol core sees it, with its protocol connection. */
class WsProtocolSocket<S> implements ProtocolSocket {
  /** Answered the last keep-alive ping. */
  alive = true;
  /** When it was last pinged (performance.now()). */
  pingedAt = -Infinity;
  connection: Connection<S, TransportExtra> | null = null;
  /** The turn (WriteBatch.turn) of the last write, and whether the socket is corked for it. */
  private lastTurn = -1;
  private corkedTurn = -1;
  /** ws's TCP socket and sender (ws keeps them in `_socket` and `_sender` for the socket's life), looked up once: every frame needs them. */
  private readonly tcp: DirectTcp | null;
  private readonly sender: { _state?: number } | null;

  constructor(
    readonly ws: WebSocket,
    private readonly options: TransportOptions,
    private readonly writes: WriteBatch,
    private readonly headers: TextFrameHeaders,
  ) {
    const tcp = (ws as unknown as { _socket?: Partial<DirectTcp> })._socket;
    this.tcp = typeof tcp?.write === 'function' && typeof tcp.cork === 'function' && typeof tcp.uncork === 'function' ? (tcp as DirectTcp) : null;
    this.sender = (ws as unknown as { _sender?: { _state?: number } })._sender ?? null;
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  send(frame: string | Buffer): void {
    if (!this.writable()) return;
    // Not waiting for the kernel: ws queues in order, and the check above bounds the queue.
    // Always a text frame, also for Buffers.
    this.ws.send(frame, TEXT_FRAME);
    if (this.options.stats) this.options.stats.framesSent += 1;
  }

  /**
   * One text frame from parts, written as they are: the header, then each part (the shared
   * payload of an event is the same Buffer for every socket, not a copy per socket joined to
   * its subscription id). Straight to the TCP socket, corked so the frame leaves in one
   * system call, when ws itself writes through (as it does without compression); else joined
   * and sent through ws, behind what it holds.
   */
  sendParts(parts: readonly Buffer[]): void {
    if (!this.writable()) return;
    const { tcp } = this;
    if (tcp === null || this.sender?._state !== SENDER_WRITES_THROUGH) {
      this.ws.send(Buffer.concat(parts), TEXT_FRAME);
    } else {
      let length = 0;
      for (const part of parts) length += part.length;
      tcp.cork();
      tcp.write(this.headers.for(length));
      for (const part of parts) tcp.write(part);
      tcp.uncork();
    }
    if (this.options.stats) this.options.stats.framesSent += 1;
  }

  /** Open and reading fast enough (a slow reader is closed here); then the write joins this turn's batch. */
  private writable(): boolean {
    const { ws } = this;
    if (ws.readyState !== ws.OPEN) return false;
    if (ws.bufferedAmount > this.options.maxBufferedBytes) {
      ws.close(this.options.slowConsumerCloseCode, 'Client too slow');
      if (this.options.stats) this.options.stats.slowConsumers += 1;
      return false;
    }
    const turn = this.writes.turn;
    if (this.lastTurn !== turn) {
      this.lastTurn = turn;
      this.writes.wrote();
    } else if (this.corkedTurn !== turn && this.tcp !== null) {
      this.corkedTurn = turn;
      this.writes.cork(this.tcp);
    }
    return true;
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
}

/** A keep-alive round is spread over this many ticks of the interval (fewer for a very short interval). */
const KEEPALIVE_TICKS = 24;
/** The shortest tick. */
const MIN_KEEPALIVE_TICK_MS = 50;

/**
 * One keep-alive timer for all sockets (not one per socket) that pings each socket once per
 * `intervalMs`, a share of them per tick: pinging every socket in one turn (a write each)
 * held every event due meanwhile behind the whole round, the slowest deliveries of the
 * fan-out benchmark with 2,000 sockets. A socket that has not answered its previous ping when
 * its turn comes again is terminated. A round visits the sockets in the order they came
 * (new ones join its end), a tick's share of them each tick; pings to one socket are at least
 * half an interval apart, also when sockets that left shorten a round.
 */
function pingInTurns<S>(sockets: Map<WebSocket, WsProtocolSocket<S>>, intervalMs: number): NodeJS.Timeout {
  const ticks = Math.max(1, Math.min(KEEPALIVE_TICKS, Math.floor(intervalMs / MIN_KEEPALIVE_TICK_MS)));
  let round: Iterator<WsProtocolSocket<S>> | null = null;
  const timer = setInterval(() => {
    const perTick = Math.ceil(sockets.size / ticks);
    const now = performance.now();
    for (let n = 0; n < perTick; n += 1) {
      round ??= sockets.values();
      const next = round.next();
      if (next.done) {
        // The next tick starts the next round.
        round = null;
        break;
      }
      const socket = next.value;
      if (now - socket.pingedAt < intervalMs / 2) continue;
      if (!socket.alive) {
        socket.ws.terminate();
        continue;
      }
      socket.alive = false;
      socket.pingedAt = now;
      socket.ws.ping();
    }
  }, intervalMs / ticks);
  timer.unref();
  return timer;
}

/**
 * The graphql-transport-ws core (protocol.ts) on a `ws` server: our own thin adapter, so
 * that socket errors go to our logger (not the console), a slow reader is cut off instead of
 * growing memory, sends do not wait for the kernel, and one timer pings every socket. The
 * socket listeners are shared by all sockets (ws calls them with the socket as `this`), so
 * an idle connection costs no closure.
 */
export function serveGraphqlWs<S>(wss: WebSocketServer, server: ProtocolServer<S, TransportExtra>, options: TransportOptions): { dispose(): Promise<void> } {
  const { logger } = options;
  wss.options.handleProtocols = handleProtocols;
  wss.on('error', (error) => logger.error({ err: error }, 'WebSocket server error'));
  const sockets = new Map<WebSocket, WsProtocolSocket<S>>();
  const writes = new WriteBatch();
  const headers = new TextFrameHeaders();

  const keepAlive = pingInTurns(sockets, options.keepAliveMs);

  function onError(this: WebSocket, error: Error) {
    // Client faults (oversized frames, bad framing) are answered by ws itself with a close code.
    logger.debug({ err: error.message }, 'WebSocket client error');
  }
  function onPong(this: WebSocket) {
    const socket = sockets.get(this);
    if (socket) socket.alive = true;
  }
  function onMessage(this: WebSocket, data: Buffer) {
    const socket = sockets.get(this);
    socket?.connection?.receive(String(data)).catch((error: unknown) => {
      // Message types only a server may send (next, error, connection_ack): the client broke the protocol.
      if (error instanceof ProtocolViolation) {
        logger.debug({ err: error.message }, 'graphql-ws protocol violation');
        socket.close(ServerCloseCode.BadRequest, 'Unexpected message type');
        return;
      }
      logger.error({ err: error }, 'graphql-ws message handling failed');
      socket.close(ServerCloseCode.InternalServerError, 'Internal server error');
    });
  }
  function onClose(this: WebSocket, code: number, reason: Buffer) {
    const socket = sockets.get(this);
    sockets.delete(this);
    socket?.connection?.closedWith(code, String(reason));
  }

  wss.on('connection', (ws, request) => {
    ws.on('error', onError);
    const socket = new WsProtocolSocket<S>(ws, options, writes, headers);
    sockets.set(ws, socket);
    ws.on('pong', onPong);
    ws.on('message', onMessage);
    ws.on('close', onClose);
    socket.connection = server.open(socket, { socket: ws, request });
  });

  return {
    async dispose() {
      clearInterval(keepAlive);
      for (const client of wss.clients) client.close(ServerCloseCode.GoingAway, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
