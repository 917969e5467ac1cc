import type http from 'node:http';
import cors from 'cors';
import type { RequestHandler } from 'express';

/** ALLOWED_ORIGINS as config.ts resolves it: any origin, or these (possibly none). */
export type AllowedOrigins = '*' | readonly string[];

/**
 * Whether a browser on `origin` may use the API. No Origin (servers, mobile apps, curl) is
 * not a browser and not subject to the list; neither is a page of the server's own origin.
 */
export function originAllowed(origin: string | undefined, allowed: AllowedOrigins, host?: string | null): boolean {
  if (origin === undefined || allowed === '*') return true;
  if (allowed.includes(origin)) return true;
  if (host) {
    try {
      return new URL(origin).host === host;
    } catch {
      return false;
    }
  }
  return false;
}

/** The WebSocket upgrade's check: the same list as CORS (ALLOWED_ORIGINS). */
export function upgradeAllowed(allowed: AllowedOrigins): (info: { origin?: string; req: http.IncomingMessage }) => boolean {
  return ({ origin, req }) => originAllowed(origin, allowed, req.headers.host);
}

/** Response headers a browser script may read. */
const EXPOSED_HEADERS = ['x-request-id', 'retry-after'];

/**
 * CORS for /graphql with the `cors` package: allowed origins get their own origin back (never
 * `*` with a list, so caches vary by Origin), no credentials (bearer tokens, no cookies), and
 * preflights cached for `maxAgeSeconds`. A refused origin gets no Access-Control-* header,
 * so the browser blocks the response.
 */
export function corsMiddleware(allowed: AllowedOrigins, maxAgeSeconds: number): RequestHandler {
  return cors({
    origin: allowed === '*' ? '*' : (origin, callback) => callback(null, origin !== undefined && allowed.includes(origin) ? origin : false),
    credentials: false,
    methods: ['GET', 'POST', 'OPTIONS'],
    // What Apollo Client and graphql-ws-free HTTP clients send; Apollo's CSRF prevention asks for a preflight-forcing header.
    allowedHeaders: ['content-type', 'authorization', 'apollo-require-preflight', 'x-apollo-operation-name', 'x-request-id'],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: maxAgeSeconds,
  }) as RequestHandler;
}

/** Response headers, as `res.setHeader` pairs. */
export type HeaderPairs = ReadonlyArray<readonly [string, string]>;

/**
 * The headers `corsMiddleware` gives an actual (non-preflight) request, computed without it:
 * the lean GraphQL path (http/graphql-http.ts) runs this on every request, where the cors
 * package re-resolves its options and calls back twice each time. Same answers (test/cors.test.ts
 * runs both paths): `*` for any origin; with a list, an allowed origin reflected with
 * `Vary: Origin`, and nothing at all for a refused or missing Origin.
 */
export function actualRequestCors(allowed: AllowedOrigins): (origin: string | undefined) => HeaderPairs | null {
  const expose = ['access-control-expose-headers', EXPOSED_HEADERS.join(',')] as const;
  if (allowed === '*') {
    const any: HeaderPairs = [['access-control-allow-origin', '*'], expose];
    return () => any;
  }
  const byOrigin = new Map<string, HeaderPairs>(allowed.map((origin) => [origin, [['access-control-allow-origin', origin], ['vary', 'Origin'], expose]]));
  return (origin) => (origin === undefined ? null : (byOrigin.get(origin) ?? null));
}
