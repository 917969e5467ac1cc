import type http from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { WebSocketServer } from 'ws';
import type { Logger } from '../shared/logger';
import type { Metrics, RequestFacts } from './metrics';

/** What a GraphQL HTTP request carries for its access-log line and metrics (in `res.locals.facts`). */
export interface HttpFacts extends RequestFacts {
  userId?: string | null;
}

export function factsOf(res: Response): HttpFacts {
  return ((res.locals.facts as HttpFacts | undefined) ??= {});
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
 * The access log (pino-http) and the HTTP metrics of /graphql: one line per request, written
 * when the response ends, with the request id, operation name, status, duration and user id,
 * and the error codes answered. Never headers (tokens), variables or bodies.
 */
export function httpAccess(logger: Logger, metrics: Metrics): RequestHandler[] {
  const log = pinoHttp({
    logger,
    // The request id middleware ran first (res.locals.requestId).
    genReqId: (_req, res) => (res as unknown as Response).locals.requestId as string,
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId', responseTime: 'durationMs' },
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    wrapSerializers: false,
    customProps: (_req, res) => {
      const facts = factsOf(res as unknown as Response);
      return { operation: facts.operation ?? null, userId: facts.userId ?? null, status: res.statusCode, ...(facts.errorCodes?.length ? { errorCodes: facts.errorCodes } : {}) };
    },
    customLogLevel: (_req, res, error) => (error ? 'error' : levelOf(res.statusCode, factsOf(res as unknown as Response))),
    customSuccessMessage: (req, res) => `${req.method} /graphql ${factsOf(res as unknown as Response).operation ?? '-'} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} /graphql ${factsOf(res as unknown as Response).operation ?? '-'} ${res.statusCode}`,
  });
  const measure = (_req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => metrics.httpRequest(factsOf(res), res.statusCode, Number(process.hrtime.bigint() - started) / 1e9));
    next();
  };
  return [log as unknown as RequestHandler, measure];
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
