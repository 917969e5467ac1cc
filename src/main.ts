// The only module with side effects: read config, start the database when needed,
// create the app, listen, and stop cleanly on SIGINT/SIGTERM.
import 'reflect-metadata';
import { type Config, ConfigError, loadConfig } from './config';
import { createApp, type App } from './app';
import { createLogger } from './shared/logger';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './shared/embedded-postgres';

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
    const { url } = await app.start();
    logger.info({ url }, `ready: open ${url}`);
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    await app?.stop().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    process.exit(1);
  }
}

void main();
