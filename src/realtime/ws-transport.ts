import type http from 'node:http';
import { CloseCode, handleProtocols } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../shared/logger';
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
}

const TEXT_FRAME = { binary: false };

/** One `ws` socket as the protocol core sees it, with its protocol connection. */
class WsProtocolSocket<S> implements ProtocolSocket {
  /** Answered the last keep-alive ping. */
  alive = true;
  connection: Connection<S, TransportExtra> | null = null;

  constructor(
    readonly ws: WebSocket,
    private readonly options: TransportOptions,
  ) {}

  get protocol(): string {
    return this.ws.protocol;
  }

  send(frame: string | Buffer): void {
    const { ws } = this;
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > this.options.maxBufferedBytes) {
      ws.close(this.options.slowConsumerCloseCode, 'Client too slow');
      return;
    }
    // Not waiting for the kernel: ws queues in order, and the check above bounds the queue.
    // Always a text frame, also for the Buffers that subscribers share (delivery.ts).
    ws.send(frame, TEXT_FRAME);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
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

  // One keep-alive timer for all sockets (not one per socket).
  const keepAlive = setInterval(() => {
    for (const socket of sockets.values()) {
      if (!socket.alive) {
        socket.ws.terminate();
        continue;
      }
      socket.alive = false;
      socket.ws.ping();
    }
  }, options.keepAliveMs);
  keepAlive.unref();

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
        socket.close(CloseCode.BadRequest, 'Unexpected message type');
        return;
      }
      logger.error({ err: error }, 'graphql-ws message handling failed');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
  }
  function onClose(this: WebSocket, code: number, reason: Buffer) {
    const socket = sockets.get(this);
    sockets.delete(this);
    socket?.connection?.closedWith(code, String(reason));
  }

  wss.on('connection', (ws, request) => {
    ws.on('error', onError);
    const socket = new WsProtocolSocket<S>(ws, options);
    sockets.set(ws, socket);
    ws.on('pong', onPong);
    ws.on('message', onMessage);
    ws.on('close', onClose);
    socket.connection = server.open(socket, { socket: ws, request });
  });

  return {
    async dispose() {
      clearInterval(keepAlive);
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
