import path from 'node:path';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import type { MigrationObject } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { Client } from 'pg';
import type { Logger } from './logger';

/** The project root, whether running from src/ (ts-jest) or dist/src/ (compiled). */
export const projectRoot = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');

/** What the ORM manages: the app's entities (the schema) and its migrations, given by the composition root (src/database.ts). */
export interface OrmSchema {
  entities: Options['entities'];
  migrations: MigrationObject[];
}

export interface OrmSettings {
  databaseUrl: string;
  poolMax?: number;
  statementTimeoutMs?: number;
  logger?: Logger;
  debug?: boolean;
  connect?: boolean;
}

export function ormOptions(schema: OrmSchema, settings: OrmSettings): Options {
  return defineConfig({
    clientUrl: settings.databaseUrl,
    entities: schema.entities,
    // The app connects in start(); init only discovers metadata.
    connect: settings.connect ?? true,
    extensions: [Migrator],
    forceUtcTimezone: true,
    // Entities are discovered from the given list, never from folders or TS sources.
    discovery: { warnWhenNoEntities: true },
    allowGlobalContext: false,
    // Loads only what each request asks for; field resolvers batch with DataLoader.
    populateWhere: 'infer',
    pool: {
      min: 0,
      max: settings.poolMax ?? 10,
      acquireTimeoutMillis: settings.statementTimeoutMs ?? 5000,
      idleTimeoutMillis: 10_000,
    },
    driverOptions: {
      connection: {
        statement_timeout: settings.statementTimeoutMs ?? 5000,
        connectionTimeoutMillis: settings.statementTimeoutMs ?? 5000,
        application_name: 'chat-api',
      },
    },
    debug: settings.debug ?? false,
    logger: settings.logger ? (message: string) => settings.logger?.debug({ orm: message }) : undefined,
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: path.join(projectRoot, 'migrations'),
      pathTs: path.join(projectRoot, 'migrations'),
      emit: 'ts',
      snapshot: true,
      snapshotName: '.snapshot-chat',
      transactional: true,
      silent: true,
      // Each migration in its own transaction, or none (CREATE INDEX CONCURRENTLY cannot run in one).
      allOrNothing: false,
      migrationsList: schema.migrations,
    },
  });
}

export async function createOrm(schema: OrmSchema, settings: OrmSettings): Promise<MikroORM> {
  return MikroORM.init(ormOptions(schema, settings));
}

/** Any constant works; it only has to be the same for every instance of this app. */
const MIGRATION_LOCK_KEY = 727_274_101;

/**
 * Applies pending migrations while holding a Postgres advisory lock on a separate
 * connection, so instances starting together take turns instead of racing.
 */
export async function migrateWithLock(orm: MikroORM, databaseUrl: string, logger?: Logger): Promise<string[]> {
  const lockClient = new Client({ connectionString: databaseUrl, application_name: 'chat-api-migrate-lock' });
  await lockClient.connect();
  try {
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await orm.getMigrator().up();
    if (applied.length > 0) logger?.info({ migrations: applied.map((m) => m.name) }, 'applied migrations');
    return applied.map((m) => m.name);
  } finally {
    await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lockClient.end().catch(() => undefined);
  }
}
