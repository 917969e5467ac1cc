import type http from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../shared/logger';

/** What graphql-ws's context carries for each connection on this transport. */
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

/**
 * graphql-ws's protocol core on a `ws` server: our own thin adapter in place of
 * `graphql-ws/use/ws`, so that socket errors go to our logger (not the console), a slow
 * reader is cut off instead of growing memory, and sends do not wait for the kernel.
 */
export function serveGraphqlWs<E extends Record<PropertyKey, unknown>>(
  wss: WebSocketServer,
  serverOptions: ServerOptions<Record<string, unknown>, TransportExtra & Partial<E>>,
  options: TransportOptions,
): { dispose(): Promise<void> } {
  const { logger } = options;
  const server = makeServer(serverOptions);
  wss.options.handleProtocols = handleProtocols;
  wss.on('error', (error) => logger.error({ err: error }, 'WebSocket server error'));

  wss.on('connection', (socket, request) => {
    // Client faults (oversized frames, bad framing) are answered by ws itself with a close code.
    socket.on('error', (error) => logger.debug({ err: error.message }, 'WebSocket client error'));

    let alive = true;
    socket.on('pong', () => (alive = true));
    const keepAlive = setInterval(() => {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, options.keepAliveMs);

    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => {
          if (socket.readyState !== socket.OPEN) return;
          if (socket.bufferedAmount > options.maxBufferedBytes) {
            socket.close(options.slowConsumerCloseCode, 'Client too slow');
            return;
          }
          socket.send(data);
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (callback) =>
          socket.on('message', async (data) => {
            try {
              await callback(String(data));
            } catch (error) {
              // graphql-ws throws on message types only a server may send (next, error, connection_ack):
              // the client broke the protocol.
              if (error instanceof Error && error.message.startsWith('Unexpected message of type')) {
                logger.debug({ err: error.message }, 'graphql-ws protocol violation');
                socket.close(CloseCode.BadRequest, 'Unexpected message type');
                return;
              }
              logger.error({ err: error }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      { socket, request } as TransportExtra & Partial<E>,
    );

    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      void closed(code, String(reason));
    });
  });

  return {
    async dispose() {
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
