import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { ExecutionResult, GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseBearer } from '../accounts/session.service';
import { Loaders, type RequestContext, type Viewer } from '../shared/context';
import { formatError } from '../shared/errors';
import type { Services } from '../services';
import { clientIp, headerValue } from '../shared/http';

/** Close codes this server uses besides graphql-ws's own. */
export enum ServerCloseCode {
  /** The server is shutting down. */
  GoingAway = 1001,
  /** The session was revoked (logout, password change) or expired. */
  SessionRevoked = CloseCode.Forbidden,
}

interface ConnectionState {
  viewer: Viewer | null;
  connectionId: string;
}

export type WsExtra = Extra & { state?: ConnectionState };

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

  constructor(
    httpServer: http.Server,
    schema: GraphQLSchema,
    private readonly services: Services,
  ) {
    const { logger, errors } = services;
    this.wss = new WebSocketServer({ server: httpServer, path: '/graphql' });
    const mask = (formattedErrors: readonly GraphQLFormattedError[] | undefined, raw: readonly GraphQLError[] | undefined, userId: string | null) =>
      (raw ?? []).map((error, index) =>
        formatError(formattedErrors?.[index] ?? error.toJSON(), error, (unexpected) => errors.record(unexpected, { operation: 'subscription', userId })),
      );

    this.disposable = useServer<Record<string, unknown>, { state?: ConnectionState }>(
      {
        schema,
        onConnect: async (ctx) => {
          const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
          let viewer: Viewer | null = null;
          if (raw !== undefined && raw !== null && raw !== '') {
            viewer = await services.sessions.authenticate(parseBearer(raw));
            // graphql-ws closes with 4403 Forbidden when onConnect returns false.
            if (!viewer) return false;
          }
          ctx.extra.state = { viewer, connectionId: randomUUID() };
          if (viewer) this.track(ctx.extra.socket, viewer);
          return true;
        },
        onClose: (ctx) => {
          const viewer = ctx.extra.state?.viewer;
          if (viewer) this.untrack(ctx.extra.socket, viewer);
        },
        context: (ctx): RequestContext => ({
          requestId: randomUUID(),
          transport: 'ws',
          em: services.orm.em.fork(),
          viewer: ctx.extra.state?.viewer ?? null,
          ip: clientIp(ctx.extra.request, services.config.trustProxy),
          userAgent: headerValue(ctx.extra.request.headers['user-agent']),
          loaders: new Loaders(),
        }),
        onNext: (ctx, _id, _payload, _args, result: ExecutionResult) => {
          if (!result.errors || result.errors.length === 0) return;
          return { ...result, errors: mask(undefined, result.errors, ctx.extra.state?.viewer?.userId ?? null) };
        },
        onError: (ctx, _id, _payload, errs) => mask(undefined, errs, ctx.extra.state?.viewer?.userId ?? null),
      },
      this.wss,
      services.config.ws.keepAliveMs,
    );
    logger.debug('graphql-ws server attached on /graphql');
  }

  private track(socket: WebSocket, viewer: Viewer): void {
    addTo(this.socketsBySession, viewer.sessionId, socket);
    addTo(this.socketsByUser, viewer.userId, socket);
  }

  private untrack(socket: WebSocket, viewer: Viewer): void {
    removeFrom(this.socketsBySession, viewer.sessionId, socket);
    removeFrom(this.socketsByUser, viewer.userId, socket);
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
