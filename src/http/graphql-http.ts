import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { type ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { SessionService, SpeculativeSession } from '../accounts/session.service';
import { attachFacts, type HttpFacts, httpAccess } from '../ops/access-log';
import { actualRequestCors, type AllowedOrigins, type HeaderPairs } from '../ops/cors';
import type { Metrics } from '../ops/metrics';
import { createRequestContext, type RequestContext } from '../shared/context';
import { clientIp, headerValue } from '../shared/http';
import { jsonBody } from '../shared/json-body';
import type { Logger } from '../shared/logger';
import { tagRequest } from '../shared/spans';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;
/** Past this, an answer is written as a Buffer (see execute). */
const LONG_ANSWER_CHARS = 4096;

/** A node:http request as the handlers below see it: `body` set by the JSON parser. */
type Request = http.IncomingMessage & { body?: unknown };
type Response = http.ServerResponse;
type Next = (error?: unknown) => void;
/** The connect-style middlewares reused here (cors, the JSON parser) take node's own objects. */
type Middleware = (req: Request, res: Response, next: Next) => void;

export interface GraphqlHttpOptions {
  apollo: ApolloServer<RequestContext>;
  sessions: SessionService;
  logger: Logger;
  metrics: Metrics;
  trustProxy: boolean;
  maxBodyBytes: number;
  allowedOrigins: AllowedOrigins;
  /** Tracing is on: the HTTP server span gets the request id. */
  traced: boolean;
  /**
   * Whether a request body's operation may run before its session is checked (a token this
   * instance has seen live, SessionService.speculate); otherwise its session is looked up first.
   */
  runsBeforeSessionCheck: (body: unknown) => boolean;
}

/** `/graphql`, `/graphql/`, with or without a query string: what Express's `/graphql` routes match in this case. */
function graphqlPath(url: string | undefined): boolean {
  if (!url || !url.startsWith('/graphql')) return false;
  const rest = url.slice(8);
  return rest === '' || rest === '/' || rest.startsWith('?') || rest.startsWith('/?');
}

/** A GET that may prefer HTML (a browser opening the explorer) goes the Express way, through the explorer's content negotiation. */
function mayWantHtml(req: http.IncomingMessage): boolean {
  const accept = req.headers.accept;
  return accept !== undefined && /text\/html/i.test(accept);
}

function answerJson(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * GraphQL over HTTP straight from node:http into Apollo Server's `executeHTTPGraphQLRequest`
 * (Express's router, request/response wrappers and the express5 integration cost several
 * times Apollo's own pipeline on a small request). Everything a request went through on the
 * Express path still happens, in the same order: CORS, the request id, the access log and
 * metrics, the body limits and their JSON error answers, then Apollo with its plugins (CSRF
 * prevention, APQ, cost and variable checks, error masking and recording).
 */
export class GraphqlHttp {
  private readonly cors: (origin: string | undefined) => HeaderPairs | null;
  private readonly access: ReturnType<typeof httpAccess>;
  private readonly body: Middleware;

  constructor(private readonly options: GraphqlHttpOptions) {
    // Preflights (OPTIONS) go to Express's cors middleware; these are the actual requests' headers.
    this.cors = actualRequestCors(options.allowedOrigins);
    this.access = httpAccess(options.logger, options.metrics);
    this.body = jsonBody(options.maxBodyBytes) as unknown as Middleware;
  }

  /**
   * The server's request listener: POST /graphql, and GET /graphql unless it may be a browser
   * asking for the explorer, are handled here; everything else goes to `fallback` (Express:
   * health, metrics, the explorer, preflights).
   */
  listener(fallback: http.RequestListener): http.RequestListener {
    return (req, res) => {
      const lean = graphqlPath(req.url) && (req.method === 'POST' || (req.method === 'GET' && !mayWantHtml(req)));
      if (!lean) return void fallback(req, res);
      this.handle(req, res);
    };
  }

  /** A /graphql request (also mounted on the Express route for what reaches it there; its CORS headers are the same). */
  handle(req: Request, res: Response): void {
    const cors = this.cors(req.headers.origin);
    if (cors) for (const [name, value] of cors) res.setHeader(name, value);
    const incoming = headerValue(req.headers['x-request-id']);
    const requestId = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', requestId);
    if (this.options.traced) tagRequest(requestId);
    const facts: HttpFacts = {};
    this.access(req, res, requestId, facts);
    this.body(req, res, (bodyError) => {
      if (bodyError) return this.answerBodyError(res, bodyError);
      this.execute(req, res, requestId, facts).catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'unhandled HTTP error');
        if (res.headersSent) return void res.destroy();
        answerJson(res, 500, { errors: [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      });
    });
  }

  private async execute(req: Request, res: Response, requestId: string, facts: HttpFacts): Promise<void> {
    const headers = new HeaderMap();
    for (const key in req.headers) {
      const value = req.headers[key];
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const request: HTTPGraphQLRequest = { method: (req.method ?? 'GET').toUpperCase(), headers, search: query >= 0 ? url.slice(query) : '', body: req.body };
    const speculation: { session?: SpeculativeSession } = {};
    let response = await this.options.apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: request, context: () => this.context(req, requestId, facts, speculation) });
    // A request that ran before its session was checked (SessionService.speculate) is answered
    // once the check passes. When it fails, the request runs again as one whose token this
    // instance had not seen: signed out for a session revoked or expired meanwhile, with that
    // lookup's own error when the check could not be made. Only reads, and sends whose batch
    // statement made the check (storing nothing for a dead session), ran before it (app.ts
    // holds every other operation until it passes), so nothing is done twice.
    if (speculation.session && !(await speculation.session.verdict)) {
      response = await this.options.apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: request, context: () => this.context(req, requestId, facts, null) });
    }
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      const text = response.body.string;
      // A long answer is encoded once into a Buffer (outside the JavaScript heap): handed a
      // string, node:http joins it to the header text and copies it again to write it, three
      // copies of a 15 KB history page in the young generation. A short one stays a string
      // (one write of header and body together).
      const body = text.length > LONG_ANSWER_CHARS ? Buffer.from(text, 'utf8') : text;
      res.setHeader('content-length', Buffer.byteLength(body));
      res.end(body);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  /** `speculation`: where a session taken before its check goes (null: the request's session is looked up first). */
  private async context(req: Request, requestId: string, facts: HttpFacts, speculation: { session?: SpeculativeSession } | null): Promise<RequestContext> {
    const session = speculation && this.options.runsBeforeSessionCheck(req.body) ? this.options.sessions.speculate(req.headers.authorization) : null;
    if (speculation && session) speculation.session = session;
    const { viewer, user } = session ? { viewer: session.viewer, user: undefined } : await this.options.sessions.authenticateRequest(req.headers.authorization);
    const context = createRequestContext({
      requestId,
      transport: 'http',
      viewer,
      viewerUser: user,
      sessionCheck: session ?? undefined,
      ip: clientIp(req, this.options.trustProxy),
      userAgent: headerValue(req.headers['user-agent']),
    });
    facts.userId = viewer?.userId ?? null;
    attachFacts(context, facts);
    return context;
  }

  /** Body failures (too large, malformed JSON, unsupported charset or encoding) as GraphQL-shaped JSON errors. */
  private answerBodyError(res: Response, error: unknown): void {
    const err = error as { status?: number; type?: string };
    if (err.type === 'entity.too.large') {
      return answerJson(res, 413, { errors: [{ message: 'Request body too large.', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    }
    if (err.status && err.status >= 400 && err.status < 500) {
      return answerJson(res, err.status, { errors: [{ message: 'Malformed request body.', extensions: { code: 'BAD_REQUEST' } }] });
    }
    this.options.logger.error({ err: error }, 'unhandled HTTP error');
    answerJson(res, 500, { errors: [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  }
}
