// Applies pending migrations (npm run migrate), under the same advisory lock as startup.
import 'reflect-metadata';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/shared/logger';
import { migrateWithLock } from '../src/shared/orm';
import { createAppOrm } from '../src/database';
import { startEmbeddedPostgres } from '../src/shared/embedded-postgres';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ logLevel: config.logLevel === 'silent' ? 'silent' : 'info' });
  const embedded = config.databaseUrl ? null : await startEmbeddedPostgres(config.dataDir, logger);
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  const orm = await createAppOrm({ databaseUrl });
  try {
    const applied = await migrateWithLock(orm, databaseUrl, logger);
    logger.info({ applied }, applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date');
  } finally {
    await orm.close(true);
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
