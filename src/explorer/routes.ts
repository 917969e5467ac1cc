import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type { Logger } from '../shared/logger';

/** URL prefix of the bundle's hashed JS and CSS (explorer/build.mjs writes the same into index.html). */
export const EXPLORER_ASSETS_PATH = '/explorer/assets';

/** What `npm run build:explorer` produces: <package root>/dist/explorer (from src/ under ts-jest or dist/src/ compiled). */
export function defaultExplorerDir(): string {
  const srcDir = path.resolve(__dirname, '..');
  const packageRoot = path.basename(path.dirname(srcDir)) === 'dist' ? path.resolve(srcDir, '..', '..') : path.resolve(srcDir, '..');
  return path.join(packageRoot, 'dist', 'explorer');
}

/** A Host header fit to repeat in the CSP (host name or IP literal, optional port); anything else gets 'self' only. */
const HOST_PATTERN = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The explorer's policy; the web client (src/web/routes.ts) serves its page under the same one. */
export function contentSecurityPolicy(nonce: string, host: string | undefined): string {
  // Browsers differ on whether 'self' covers ws(s) of the same host, so name them.
  const sockets = host && HOST_PATTERN.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    // The nonce covers the page's own <style> and the ones GraphiQL's dialogs add; no 'unsafe-inline'.
    `style-src 'self' 'nonce-${nonce}'`,
    // GraphiQL's CSS inlines its fonts and a few icons as data: URLs.
    "font-src 'self' data:",
    "img-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Prefers HTML over every GraphQL response type (browsers navigating to the URL; not curl's `*\/*`). */
function wantsHtml(req: Request): boolean {
  return req.accepts(['application/graphql-response+json', 'application/json', 'text/html']) === 'text/html';
}

/**
 * GraphiQL on `GET /graphql` for requests that prefer text/html, and its bundle under
 * /explorer/assets. Everything else on /graphql falls through to Apollo. Mount only when
 * introspection is enabled (the explorer needs the schema).
 */
export function explorerRoutes(options: { logger: Logger; dir?: string }): Router {
  const dir = options.dir ?? defaultExplorerDir();
  const router = Router();
  const indexFile = path.join(dir, 'index.html');
  if (!existsSync(indexFile)) {
    options.logger.warn({ dir }, 'explorer bundle missing (run `npm run build:explorer`); GET /graphql serves no explorer');
    return router;
  }
  const template = readFileSync(indexFile, 'utf8');

  router.get('/graphql', (req: Request, res: Response, next: NextFunction) => {
    if (!wantsHtml(req)) return next();
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(nonce, req.headers.host));
    // The same URL answers JSON to API clients, so caches must key on Accept; the nonce is per response.
    res.setHeader('Vary', 'Accept');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.send(template.replaceAll('{{NONCE}}', nonce));
  });

  router.use(
    EXPLORER_ASSETS_PATH,
    express.static(path.join(dir, 'assets'), {
      index: false,
      // File names carry a content hash: a new build gets new names.
      immutable: true,
      maxAge: '365d',
      setHeaders: (res) => res.setHeader('X-Content-Type-Options', 'nosniff'),
    }),
  );
  return router;
}
