import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { type ExecutionResult, getOperationAST, GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseBearer } from '../accounts/session.service';
import { RevocationWatcher } from '../accounts/revocation';
import { createRequestContext, type Viewer } from '../shared/context';
import { formatError, operationName } from '../shared/errors';
import type { Services } from '../services';
import type { RealtimeContext } from './realtime.resolver';
import { clientIp, headerValue } from '../shared/http';
import { checkCost, DocumentCache } from '../shared/limits';
import { serveGraphqlWs, type TransportExtra } from './ws-transport';
import { createSharedSubscribe } from './shared-execution';

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

interface ConnectionState {
  viewer: Viewer | null;
  connectionId: string;
}

/**
 * Cross-site WebSocket hijacking comes from browsers, which always send Origin; other
 * clients (servers, mobile apps) send none and are not subject to the allow-list.
 */
const forbiddenOrigin = (origin: string | undefined, allowed: string[]) => allowed.length > 0 && origin !== undefined && !allowed.includes(origin);

export type WsExtra = TransportExtra & { state?: ConnectionState };

/**
 * graphql-ws on the HTTP server's `/graphql` path. Authenticates in onConnect (a bad token
 * closes with 4403), builds a context per operation, masks errors like the HTTP side, and
 * keeps an index of sockets by session so revocations close them.
 */
export class WsGateway {
  readonly wss: WebSocketServer;
  private readonly disposable: { dispose(): void | Promise<void> };
  private readonly socketsBySession = new Map<string, Set<WebSocket>>();
  private readonly socketsByUser = new Map<string, Set<WebSocket>>();
  /** Closes sockets whose session is revoked on any instance (accounts/revocation.ts). */
  private readonly revocations: RevocationWatcher;
  private readonly documents: DocumentCache;

  constructor(
    httpServer: http.Server,
    schema: GraphQLSchema,
    services: Services,
  ) {
    const { logger, errors } = services;
    this.revocations = new RevocationWatcher(services.bus, services.sessions, logger, (sessionIds) => this.closeSessions(sessionIds));
    const { ws: wsConfig, limits } = services.config;
    this.wss = new WebSocketServer({
      server: httpServer,
      path: '/graphql',
      maxPayload: wsConfig.maxPayloadBytes,
      // The Origin allow-list (ALLOWED_ORIGINS): browsers always send Origin on upgrades.
      verifyClient: ({ origin }: { origin?: string }) => !forbiddenOrigin(origin, wsConfig.allowedOrigins),
    });
    this.documents = new DocumentCache(schema, limits, limits.documentCache);
    // The same masking as over HTTP (shared/errors.ts), with this connection's viewer for the error log.
    const mask = (raw: readonly GraphQLError[], viewer: Viewer | null | undefined, operationType: string | undefined): GraphQLFormattedError[] =>
      raw.map((error) =>
        formatError(error.toJSON(), error, (unexpected) =>
          errors.record(unexpected, { operation: operationName(operationType, error), userId: viewer?.userId ?? null, requestId: null }),
        ),
      );

    this.disposable = serveGraphqlWs<{ state?: ConnectionState }>(
      this.wss,
      {
        schema,
        subscribe: createSharedSubscribe(schema, wsConfig.sharedExecution),
        connectionInitWaitTimeout: wsConfig.initTimeoutMs,
        onSubscribe: (ctx, _id, payload) => {
          // The new subscription's id is already registered when this runs.
          if (Object.keys(ctx.subscriptions).length > wsConfig.maxSubscriptionsPerConnection) {
            return [new GraphQLError(`At most ${wsConfig.maxSubscriptionsPerConnection} subscriptions per connection.`, { extensions: { code: 'RATE_LIMITED', retryAfter: 1 } })];
          }
          // Parse and validate once per distinct document (cached), with the same limits as HTTP.
          const prepared = this.documents.prepare(payload.query);
          if (prepared.errors) return prepared.errors;
          const tooExpensive = checkCost(schema, prepared.document, payload.variables ?? undefined, payload.operationName, limits.maxCost);
          if (tooExpensive) return [tooExpensive];
          return { schema, document: prepared.document, variableValues: payload.variables, operationName: payload.operationName ?? undefined };
        },
        onConnect: async (ctx) => {
          const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
          let viewer: Viewer | null = null;
          if (raw !== undefined && raw !== null && raw !== '') {
            viewer = await services.sessions.authenticate(parseBearer(raw));
            // graphql-ws closes with 4403 Forbidden when onConnect returns false.
            if (!viewer) return false;
          }
          if (viewer && this.userSocketCount(viewer.userId) >= wsConfig.maxConnectionsPerUser) {
            ctx.extra.socket.close(ServerCloseCode.TooManyConnections, 'Too many connections for this user');
            return false;
          }
          ctx.extra.state = { viewer, connectionId: randomUUID() };
          if (viewer) this.track(ctx.extra.socket, viewer);
          // Presence: online from here until onClose (realtime/presence.ts).
          await services.realtime.connectionOpened(ctx.extra.state.connectionId, viewer);
          return true;
        },
        onClose: (ctx) => {
          const viewer = ctx.extra.state?.viewer;
          if (viewer) this.untrack(ctx.extra.socket, viewer);
          if (ctx.extra.state) void services.realtime.connectionClosed(ctx.extra.state.connectionId);
        },
        // `realtime`: the subscription engine, for type-graphql's subscribe functions.
        context: (ctx): RealtimeContext =>
          createRequestContext(services, {
            requestId: randomUUID(),
            transport: 'ws' as const,
            viewer: ctx.extra.state?.viewer ?? null,
            ip: clientIp(ctx.extra.request, services.config.trustProxy),
            userAgent: headerValue(ctx.extra.request.headers['user-agent']),
            realtime: services.realtime,
          }),
        onNext: (ctx, _id, _payload, args, result: ExecutionResult) => {
          if (!result.errors || result.errors.length === 0) return;
          const operationType = getOperationAST(args.document, args.operationName)?.operation;
          return { ...result, errors: mask(result.errors, ctx.extra.state?.viewer, operationType) };
        },
        onError: (ctx, _id, _payload, errs) => mask(errs, ctx.extra.state?.viewer, undefined),
      },
      {
        logger,
        keepAliveMs: wsConfig.keepAliveMs,
        // A slow reader must not grow our memory: it is dropped and resumes with its cursor.
        maxBufferedBytes: wsConfig.maxBufferedBytes,
        slowConsumerCloseCode: ServerCloseCode.SlowConsumer,
      },
    );
    logger.debug('graphql-ws server attached on /graphql');
  }

  private track(socket: WebSocket, viewer: Viewer): void {
    addTo(this.socketsBySession, viewer.sessionId, socket);
    addTo(this.socketsByUser, viewer.userId, socket);
    this.revocations.socketOpened(viewer);
  }

  private untrack(socket: WebSocket, viewer: Viewer): void {
    removeFrom(this.socketsBySession, viewer.sessionId, socket);
    removeFrom(this.socketsByUser, viewer.userId, socket);
    this.revocations.socketClosed(viewer);
  }

  /** Closes this instance's sockets opened with any of these sessions. */
  closeSessions(sessionIds: readonly string[]): number {
    let closed = 0;
    for (const sessionId of sessionIds) {
      for (const socket of this.socketsBySession.get(sessionId) ?? []) {
        socket.close(ServerCloseCode.SessionRevoked, 'Session revoked');
        closed += 1;
      }
    }
    return closed;
  }

  /** Number of open sockets of a user on this instance. */
  userSocketCount(userId: string): number {
    return this.socketsByUser.get(userId)?.size ?? 0;
  }

  get connectionCount(): number {
    return this.wss.clients.size;
  }

  /** Completes subscriptions and closes every socket with 1001 (Going Away). */
  async dispose(): Promise<void> {
    this.revocations.close();
    await this.disposable.dispose();
  }
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
