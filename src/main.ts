// The only module with side effects: read config, start tracing when configured, start the
// database when needed, create the app, listen, and stop cleanly on SIGINT/SIGTERM.
// The app (and so http, pg, ioredis, graphql) is loaded only after tracing has started, so
// the OpenTelemetry instrumentations can patch those modules as they are required.
import 'reflect-metadata';
import { type Config, ConfigError, loadConfig } from './config';
import type { App } from './app';
import { createLogger } from './shared/logger';
import type { EmbeddedDatabase } from './shared/embedded-postgres';
import type { Tracing } from './ops/tracing';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config);
  let tracing: Tracing | null = null;
  if (config.tracing.endpoint) {
    const { startTracing } = require('./ops/tracing') as typeof import('./ops/tracing');
    tracing = startTracing(config);
    logger.info({ endpoint: config.tracing.endpoint, sampleRatio: config.tracing.sampleRatio }, 'tracing: spans exported over OTLP');
  }
  const { createApp } = require('./app') as typeof import('./app');
  const { startEmbeddedPostgres } = require('./shared/embedded-postgres') as typeof import('./shared/embedded-postgres');

  let embedded: EmbeddedDatabase | null = null;
  let app: App | null = null;
  let shuttingDown = false;

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'stopping');
    const deadline = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 1500);
    deadline.unref();
    try {
      await app?.stop();
      await embedded?.stop();
      await tracing?.shutdown();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error while stopping');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    if (!config.databaseUrl) {
      logger.info('DATABASE_URL is unset: starting an embedded PostgreSQL');
      embedded = await startEmbeddedPostgres(config.dataDir, logger);
      config = { ...config, databaseUrl: embedded.url };
    }
    app = await createApp(config, { logger });
    const { url, webUrl } = await app.start();
    // The chat in a browser when the web client is served, else the API (and its explorer).
    logger.info({ url, webUrl }, `ready: open ${webUrl ?? url}`);
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    await app?.stop().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    process.exit(1);
  }
}

void main();
