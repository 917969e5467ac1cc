import type http from 'node:http';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseBearer } from '../accounts/session.service';
import { RevocationWatcher } from '../accounts/revocation';
import { createRequestContext, type Viewer } from '../shared/context';
import { formatError, operationName } from '../shared/errors';
import type { Services } from '../services';
import type { RealtimeContext } from './realtime.resolver';
import { clientIp, headerValue } from '../shared/http';
import { CostLimiter, DocumentCache } from '../shared/limits';
import type { QueryExecutor } from '../shared/jit';
import { EventRenderer } from './delivery';
import { ProtocolServer } from './protocol';
import { serveGraphqlWs, type TransportExtra, type TransportStats } from './ws-transport';
import { upgradeAllowed } from '../ops/cors';

/** Close codes this server uses besides graphql-ws's own. */
export enum ServerCloseCode {
  /** The server is shutting down. */
  GoingAway = 1001,
  /** A frame over WS_MAX_PAYLOAD_BYTES (sent by ws itself). */
  MessageTooBig = 1009,
  /** The client reads too slowly: its unsent data passed WS_MAX_BUFFERED_BYTES. */
  SlowConsumer = 4429,
  /** Over WS_MAX_CONNECTIONS_PER_USER. */
  TooManyConnections = 4430,
  /** The session was revoked (logout, password change) or expired. */
  SessionRevoked = CloseCode.Forbidden,
}

/** What a connection keeps after connection_init: only what its operations need. */
interface ConnectionState {
  viewer: Viewer | null;
  /** Unique on this instance (presence adds the instance). */
  connectionId: number;
  socket: WebSocket;
  ip: string | null;
  userAgent: string | null;
}

/**
 * graphql-ws on the HTTP server's `/graphql` path. Authenticates at connection_init (a bad
 * token closes with 4403), applies the same limits and masking as the HTTP side, builds a
 * context per operation and per event, and keeps an index of sockets by session so
 * revocations close them.
 */
export class WsGateway {
  readonly wss: WebSocketServer;
  private readonly disposable: { dispose(): void | Promise<void> };
  private readonly socketsBySession = new SocketIndex();
  private readonly socketsByUser = new SocketIndex();
  private nextConnectionId = 1;
  /** Closes sockets whose session is revoked on any instance (accounts/revocation.ts). */
  private readonly revocations: RevocationWatcher;
  /** Frames sent and slow consumers dropped (for /metrics). */
  readonly stats: TransportStats = { framesSent: 0, slowConsumers: 0 };

  constructor(
    httpServer: http.Server,
    schema: GraphQLSchema,
    services: Services,
    executor: QueryExecutor,
    /** Error codes answered to operations (for /metrics). */
    onErrors: (codes: string[]) => void = () => undefined,
  ) {
    const { logger, errors } = services;
    this.revocations = new RevocationWatcher(services.bus, logger, (sessionIds) => this.closeSessions(sessionIds));
    const { ws: wsConfig, limits } = services.config;
    this.wss = new WebSocketServer({
      server: httpServer,
      path: '/graphql',
      maxPayload: wsConfig.maxPayloadBytes,
      // The Origin allow-list (ALLOWED_ORIGINS, as for CORS): browsers always send Origin on
      // upgrades, so cross-site WebSocket hijacking is refused here.
      verifyClient: upgradeAllowed(services.config.allowedOrigins),
    });
    // Parse and validate once per distinct document (cached), with the same limits as HTTP.
    const documents = new DocumentCache(schema, limits, limits.documentCache);
    const costs = new CostLimiter(schema, limits.maxCost);
    const renderer = new EventRenderer(schema, executor, wsConfig.sharedExecution);

    const server = new ProtocolServer<ConnectionState, TransportExtra>({
      schema,
      executor,
      renderer,
      hooks: {
        connectionInitWaitTimeout: wsConfig.initTimeoutMs,
        onConnect: async (params, { socket, request }) => {
          const raw = params?.authorization ?? params?.Authorization;
          let viewer: Viewer | null = null;
          if (raw !== undefined && raw !== null && raw !== '') {
            viewer = await services.sessions.authenticate(parseBearer(raw));
            // Closed with 4403 Forbidden.
            if (!viewer) return false;
          }
          if (viewer && this.userSocketCount(viewer.userId) >= wsConfig.maxConnectionsPerUser) {
            socket.close(ServerCloseCode.TooManyConnections, 'Too many connections for this user');
            return false;
          }
          const state: ConnectionState = {
            viewer,
            connectionId: this.nextConnectionId++,
            socket,
            ip: clientIp(request, services.config.trustProxy),
            userAgent: headerValue(request.headers['user-agent']),
          };
          if (viewer) this.track(socket, viewer);
          // Presence: online from here until the socket closes (realtime/presence.ts).
          await services.realtime.connectionOpened(state.connectionId, viewer);
          return state;
        },
        onClose: (state) => {
          if (!state) return;
          if (state.viewer) this.untrack(state.socket, state.viewer);
          void services.realtime.connectionClosed(state.connectionId);
        },
        prepare: (_state, payload, active) => {
          if (active > wsConfig.maxSubscriptionsPerConnection) {
            return [new GraphQLError(`At most ${wsConfig.maxSubscriptionsPerConnection} subscriptions per connection.`, { extensions: { code: 'RATE_LIMITED', retryAfter: 1 } })];
          }
          const prepared = documents.prepare(payload.query);
          if (prepared.errors) return prepared.errors;
          const variables = payload.variables ?? undefined;
          const name = payload.operationName ?? undefined;
          const tooExpensive = costs.check(prepared.document, variables, name);
          if (tooExpensive) return [tooExpensive];
          return renderer.prepare(prepared.document, name, variables);
        },
        // The realtime engine rides along for type-graphql's subscribe functions.
        context: (state): RealtimeContext =>
          createRequestContext(services, {
            requestId: null,
            transport: 'ws' as const,
            viewer: state.viewer,
            ip: state.ip,
            userAgent: state.userAgent,
            realtime: services.realtime,
          }),
        // The same masking as over HTTP (shared/errors.ts), with this connection's viewer for the error log.
        mask: (state, raw, operationType): GraphQLFormattedError[] => {
          const masked = raw.map((error) =>
            formatError(error.toJSON(), error, (unexpected) =>
              errors.record(unexpected, { operation: operationName(operationType, error), userId: state?.viewer?.userId ?? null, requestId: null }),
            ),
          );
          onErrors(masked.map((error) => String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR')));
          return masked;
        },
      },
    });

    this.disposable = serveGraphqlWs(this.wss, server, {
      logger,
      keepAliveMs: wsConfig.keepAliveMs,
      // A slow reader must not grow our memory: it is dropped and resumes with its cursor.
      maxBufferedBytes: wsConfig.maxBufferedBytes,
      slowConsumerCloseCode: ServerCloseCode.SlowConsumer,
      stats: this.stats,
    });
    logger.debug('graphql-ws server attached on /graphql');
  }

  private track(socket: WebSocket, viewer: Viewer): void {
    this.socketsBySession.add(viewer.sessionId, socket);
    this.socketsByUser.add(viewer.userId, socket);
    this.revocations.socketOpened(viewer);
  }

  private untrack(socket: WebSocket, viewer: Viewer): void {
    this.socketsBySession.remove(viewer.sessionId, socket);
    this.socketsByUser.remove(viewer.userId, socket);
  }

  /** Closes this instance's sockets opened with any of these sessions. */
  closeSessions(sessionIds: readonly string[]): number {
    let closed = 0;
    for (const sessionId of sessionIds) {
      for (const socket of this.socketsBySession.get(sessionId)) {
        socket.close(ServerCloseCode.SessionRevoked, 'Session revoked');
        closed += 1;
      }
    }
    return closed;
  }

  /** Number of open sockets of a user on this instance. */
  userSocketCount(userId: string): number {
    return this.socketsByUser.count(userId);
  }

  get connectionCount(): number {
    return this.wss.clients.size;
  }

  /** Listens for session revocations (before any socket authenticates). */
  async start(): Promise<void> {
    await this.revocations.start();
  }

  /** Completes subscriptions and closes every socket with 1001 (Going Away). */
  async dispose(): Promise<void> {
    this.revocations.close();
    await this.disposable.dispose();
  }
}

/** Sockets by key (user, session): the one socket itself, a Set only for a key with several. */
class SocketIndex {
  private readonly entries = new Map<string, WebSocket | Set<WebSocket>>();

  add(key: string, socket: WebSocket): void {
    const entry = this.entries.get(key);
    if (entry === undefined) this.entries.set(key, socket);
    else if (entry instanceof Set) entry.add(socket);
    else if (entry !== socket) this.entries.set(key, new Set([entry, socket]));
  }

  remove(key: string, socket: WebSocket): void {
    const entry = this.entries.get(key);
    if (entry === socket) this.entries.delete(key);
    else if (entry instanceof Set) {
      entry.delete(socket);
      if (entry.size === 1) this.entries.set(key, entry.values().next().value as WebSocket);
    }
  }

  get(key: string): Iterable<WebSocket> {
    const entry = this.entries.get(key);
    return entry === undefined ? [] : entry instanceof Set ? [...entry] : [entry];
  }

  count(key: string): number {
    const entry = this.entries.get(key);
    return entry === undefined ? 0 : entry instanceof Set ? entry.size : 1;
  }
}
