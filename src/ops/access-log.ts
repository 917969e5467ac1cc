import type http from 'node:http';
import type { WebSocketServer } from 'ws';
import type { Logger } from '../shared/logger';
import type { Metrics, RequestFacts } from './metrics';

/** What a GraphQL HTTP request carries for its access-log line and metrics. */
export interface HttpFacts extends RequestFacts {
  userId?: string | null;
}

const FACTS = Symbol('httpFacts');

/**
 * The facts travel on the request's GraphQL context as a symbol property: Apollo hands
 * plugins a copy of the context object (own properties, symbols included), not the object.
 */
export function attachFacts(context: object, facts: HttpFacts): void {
  (context as { [FACTS]?: HttpFacts })[FACTS] = facts;
}

export function contextFacts(context: object): HttpFacts | undefined {
  return (context as { [FACTS]?: HttpFacts })[FACTS];
}

type Level = 'info' | 'warn' | 'error';

/** failed (5xx, or an internal error answered): error; rejected (4xx) or GraphQL errors: warn; else info. */
function levelOf(status: number, facts: HttpFacts): Level {
  if (status >= 500 || facts.errorCodes?.includes('INTERNAL_SERVER_ERROR')) return 'error';
  if (status >= 400 || (facts.errorCodes?.length ?? 0) > 0) return 'warn';
  return 'info';
}

/**
 * The access log and the HTTP metrics of /graphql: one line per request, written when the
 * response ends (or the connection closes first), with the request id, operation name,
 * status, duration and user id, and the error codes answered. Never headers (tokens),
 * variables or bodies. The line has pino-http's shape (`req`, `res`, `durationMs`); written
 * here with one logger call, and none when its level is off, where pino-http built three
 * child loggers per request whatever the level (a tenth of a small request's CPU).
 */
export function httpAccess(logger: Logger, metrics: Metrics): (req: http.IncomingMessage, res: http.ServerResponse, requestId: string, facts: HttpFacts) => void {
  return (req, res, requestId, facts) => {
    const started = performance.now();
    // A response emits 'close' once it has finished (after 'finish') or when its connection
    // closed first: one listener covers both.
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      metrics.httpRequest(facts, res.statusCode, seconds);
      const failed = res.statusCode >= 500;
      const level = levelOf(res.statusCode, facts);
      if (!logger.isLevelEnabled(level)) return;
      const line = {
        requestId,
        req: { method: req.method, url: req.url },
        operation: facts.operation ?? null,
        userId: facts.userId ?? null,
        status: res.statusCode,
        ...(facts.errorCodes?.length ? { errorCodes: facts.errorCodes } : {}),
        res: { statusCode: res.statusCode },
        ...(failed ? { err: new Error(`failed with status code ${res.statusCode}`) } : {}),
        durationMs: Math.round(seconds * 1000),
      };
      logger[level](line, `${req.method} /graphql ${facts.operation ?? '-'} ${res.statusCode}`);
    });
  };
}

/** Close codes that are the client's own doing or a normal end: info; the rest warn (4xxx, 1009, 1011, 1006). */
const NORMAL_CLOSES = new Set([1000, 1001, 1005]);

/**
 * One line per graphql-ws connection when it opens and when it closes (with the close code,
 * level by code), and the close codes counted in the metrics.
 */
export function observeWebSockets(wss: WebSocketServer, logger: Logger, metrics: Metrics, trustedAddress: (request: http.IncomingMessage) => string | null): void {
  let next = 1;
  wss.on('connection', (socket, request) => {
    const connection = next++;
    const opened = Date.now();
    const ip = trustedAddress(request);
    logger.info({ ws: 'open', connection, ip }, 'WebSocket open');
    socket.once('close', (code: number) => {
      metrics.wsConnectionClosed(code);
      const level: Level = NORMAL_CLOSES.has(code) ? 'info' : code === 1011 ? 'error' : 'warn';
      logger[level]({ ws: 'close', connection, ip, code, durationMs: Date.now() - opened }, `WebSocket closed ${code}`);
    });
  });
}
