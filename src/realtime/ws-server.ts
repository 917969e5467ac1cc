import type http from 'node:http';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config';
import { createRequestContext, type RequestContext, type Viewer } from '../shared/context';
import { type ErrorSink, formatError, operationName, ServiceUnavailableError } from '../shared/errors';
import { clientIp, headerValue } from '../shared/http';
import { CostLimiter, DocumentCache } from '../shared/limits';
import { checkVariables, resolveOperation } from '../shared/variables';
import type { QueryExecutor } from '../shared/jit';
import type { Logger } from '../shared/logger';
import { ServerCloseCode } from './close-code';
import { ConnectionLimits } from './connection-limits';
import { EventRenderer } from './delivery';
import type { EventBus } from './event-bus';
import { ProtocolServer } from './protocol';
import type { RealtimeService } from './realtime.service';
import { RevocationWatcher } from './revocation';
import { SessionGuard, type SessionDeadline } from './session-guard';
import { serveGraphqlWs, type TransportExtra, type TransportStats } from './ws-transport';

/** Who a connection_init's `authorization` belongs to (the accounts feature's sessions). */
export interface Authenticator {
  /** The viewer of an `Authorization` value (`Bearer <token>` or the bare token), or null when it is not a live session. */
  authenticateHeader(authorization: unknown): Promise<Viewer | null>;
  /** An open socket's session checked again: when it expires (epoch ms), or null when it is revoked or expired. */
  sessionDeadline: SessionDeadline;
}

export interface WsGatewayDeps {
  config: Pick<Config, 'ws' | 'limits' | 'trustProxy' | 'introspection'>;
  logger: Logger;
  bus: EventBus;
  sessions: Authenticator;
  realtime: RealtimeService;
  errors: ErrorSink;
  /** The Origin allow-list of upgrades (ALLOWED_ORIGINS, the same rule as CORS: ops/cors.ts). */
  upgradeAllowed: (info: { origin?: string; req: http.IncomingMessage }) => boolean;
  /** Error codes answered to operations (for /metrics). */
  onErrors?: (codes: string[]) => void;
}

/** The graphql-ws context carries the engine, since type-graphql's `subscribe` functions get no resolver instance. */
export interface RealtimeContext extends RequestContext {
  realtime?: RealtimeService;
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
  /** Closes sockets whose session is revoked on any instance (revocation.ts). */
  private readonly revocations: RevocationWatcher;
  /** Frames sent and slow consumers dropped (for /metrics). */
  readonly stats: TransportStats = { framesSent: 0, slowConsumers: 0 };
  /** Checks sessions of open sockets without the bus: per operation, at expiry, after a bus reconnect. */
  private readonly guard: SessionGuard;

  constructor(httpServer: http.Server, schema: GraphQLSchema, executor: QueryExecutor, deps: WsGatewayDeps) {
    const { logger, errors, sessions, realtime } = deps;
    this.revocations = new RevocationWatcher(deps.bus, logger, (sessionIds) => this.closeSessions(sessionIds));
    this.guard = new SessionGuard((sessionId, options) => sessions.sessionDeadline(sessionId, options), (sessionId, reason) => this.closeSessions([sessionId], reason), logger);
    // Revocations published while the bus was away never arrive: every open socket's session is checked again.
    deps.bus.onRestored(() => void this.guard.recheckAll());
    const { ws: wsConfig, limits, trustProxy } = deps.config;
    const onErrors = deps.onErrors ?? (() => undefined);
    this.wss = new WebSocketServer({
      server: httpServer,
      path: '/graphql',
      maxPayload: wsConfig.maxPayloadBytes,
      // The Origin allow-list (ALLOWED_ORIGINS, as for CORS): browsers always send Origin on
      // upgrades, so cross-site WebSocket hijacking is refused here.
      verifyClient: deps.upgradeAllowed,
    });
    // Caps on sockets per address and anonymous sockets; registered before the protocol's listener.
    const connectionLimits = new ConnectionLimits(
      { maxPerAddress: wsConfig.maxConnectionsPerAddress, maxAnonymous: wsConfig.maxAnonymousConnections, anonymousIdleMs: wsConfig.anonymousIdleMs },
      logger,
    );
    this.wss.on('connection', (socket, request) => connectionLimits.opened(socket, clientIp(request, trustProxy)));
    // Parse and validate once per distinct document (cached), with the same limits as HTTP.
    const documents = new DocumentCache(schema, limits, limits.documentCache, { introspection: deps.config.introspection });
    const costs = new CostLimiter(schema, limits.maxCost, limits.maxChannelsPerUser);
    const renderer = new EventRenderer(schema, executor, wsConfig.sharedExecution);

    const server = new ProtocolServer<ConnectionState, TransportExtra>({
      schema,
      executor,
      renderer,
      hooks: {
        connectionInitWaitTimeout: wsConfig.initTimeoutMs,
        onConnect: async (params, { socket, request }) => {
          // Already refused (closing) at the upgrade.
          if (socket.readyState !== socket.OPEN) return false;
          const raw = params?.authorization ?? params?.Authorization;
          let viewer: Viewer | null = null;
          if (raw !== undefined && raw !== null && raw !== '') {
            viewer = await sessions.authenticateHeader(raw);
            // Closed with 4403 Forbidden.
            if (!viewer) return false;
          }
          // Refused (closed with 4430) over the anonymous cap.
          if (!viewer && !connectionLimits.acknowledgeAnonymous(socket)) return false;
          if (viewer && this.userSocketCount(viewer.userId) >= wsConfig.maxConnectionsPerUser) {
            socket.close(ServerCloseCode.TooManyConnections, 'Too many connections for this user');
            return false;
          }
          const state: ConnectionState = {
            viewer,
            connectionId: this.nextConnectionId++,
            socket,
            ip: clientIp(request, trustProxy),
            userAgent: headerValue(request.headers['user-agent']),
          };
          if (viewer) this.track(socket, viewer);
          // Presence: online from here until the socket closes (realtime/presence.ts).
          await realtime.connectionOpened(state.connectionId, viewer);
          return state;
        },
        onClose: (state) => {
          if (!state) return;
          if (state.viewer) this.untrack(state.socket, state.viewer);
          void realtime.connectionClosed(state.connectionId);
        },
        prepare: (state, payload, active) => {
          connectionLimits.operationStarted(state.socket);
          if (active > wsConfig.maxSubscriptionsPerConnection) {
            return [new GraphQLError(`At most ${wsConfig.maxSubscriptionsPerConnection} subscriptions per connection.`, { extensions: { code: 'RATE_LIMITED', retryAfter: 1 } })];
          }
          const prepared = documents.prepare(payload.query);
          if (prepared.errors) return prepared.errors;
          const variables = payload.variables ?? undefined;
          const name = payload.operationName ?? undefined;
          // The same checks as over HTTP (app.ts): the operation exists, the variables coerce.
          const operation = resolveOperation(prepared.document, name);
          if (operation instanceof GraphQLError) return [operation];
          const variableErrors = checkVariables(schema, operation, variables, { suggestions: deps.config.introspection });
          if (variableErrors.length > 0) return variableErrors;
          const tooExpensive = costs.check(prepared.document, variables, name);
          if (tooExpensive) return [tooExpensive];
          // Queries and mutations run once: only subscriptions share results (and are remembered).
          if (operation.operation !== 'subscription') return { document: prepared.document, operationName: name, variables, shareKey: null };
          return renderer.prepare(prepared.document, name, variables);
        },
        admit: (state) => {
          if (!state.viewer) return true;
          try {
            const admitted = this.guard.admit(state.viewer.sessionId);
            return admitted === true || admitted === false ? admitted : admitted.catch(() => [new ServiceUnavailableError()]);
          } catch {
            return [new ServiceUnavailableError()];
          }
        },
        // The realtime engine rides along for type-graphql's subscribe functions.
        context: (state): RealtimeContext =>
          createRequestContext({
            requestId: null,
            transport: 'ws' as const,
            viewer: state.viewer,
            ip: state.ip,
            userAgent: state.userAgent,
            realtime,
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
    this.guard.socketOpened(viewer.sessionId);
  }

  private untrack(socket: WebSocket, viewer: Viewer): void {
    this.socketsBySession.remove(viewer.sessionId, socket);
    this.socketsByUser.remove(viewer.userId, socket);
    this.guard.socketClosed(viewer.sessionId);
  }

  /** Closes this instance's sockets opened with any of these sessions. */
  closeSessions(sessionIds: readonly string[], reason = 'Session revoked'): number {
    let closed = 0;
    for (const sessionId of sessionIds) {
      for (const socket of this.socketsBySession.get(sessionId)) {
        socket.close(ServerCloseCode.SessionRevoked, reason);
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
    this.guard.dispose();
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
