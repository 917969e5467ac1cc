import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response, Router } from 'express';
import { contentSecurityPolicy } from '../explorer/routes';
import type { Logger } from '../shared/logger';

/** URL prefix of the web client's hashed JS and CSS (web/build.mjs writes the same into index.html). */
export const WEB_ASSETS_PATH = '/web/assets';

/** What `npm run build:web` produces: <package root>/dist/web (from src/ under ts-jest or dist/src/ compiled). */
export function defaultWebClientDir(): string {
  const srcDir = path.resolve(__dirname, '..');
  const packageRoot = path.basename(path.dirname(srcDir)) === 'dist' ? path.resolve(srcDir, '..', '..') : path.resolve(srcDir, '..');
  return path.join(packageRoot, 'dist', 'web');
}

/**
 * The reference web client (web/) on `GET /` and its bundle under /web/assets, under the
 * explorer's Content-Security-Policy. The page routes in its URL fragment, so `/` is its only
 * page. Returns null (and logs why) when the bundle was not built.
 */
export function webClientRoutes(options: { logger: Logger; dir?: string }): Router | null {
  const dir = options.dir ?? defaultWebClientDir();
  const indexFile = path.join(dir, 'index.html');
  if (!existsSync(indexFile)) {
    options.logger.warn({ dir }, 'web client bundle missing (run `npm run build:web`); GET / serves no web client');
    return null;
  }
  const template = readFileSync(indexFile, 'utf8');
  const router = Router();

  router.get('/', (req: Request, res: Response) => {
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(nonce, req.headers.host));
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.send(template.replaceAll('{{NONCE}}', nonce));
  });

  router.use(
    WEB_ASSETS_PATH,
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
