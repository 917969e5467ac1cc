import path from 'node:path';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { Client } from 'pg';
import { User } from '../accounts/user.entity';
import { Session } from '../accounts/session.entity';
import { ActivityEntry } from '../accounts/activity.entity';
import { Channel } from '../channels/channel.entity';
import { Membership } from '../channels/membership.entity';
import { Message, Vote } from '../messages/message.entity';
import { ErrorLogEntry } from '../ops/error-log.entity';
import { migrationsList } from '../../migrations';
import type { Logger } from './logger';

export const entities = [User, Session, ActivityEntry, Channel, Membership, Message, Vote, ErrorLogEntry];

/** The project root, whether running from src/ (ts-jest) or dist/src/ (compiled). */
export const projectRoot = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');

export interface OrmSettings {
  databaseUrl: string;
  poolMax?: number;
  statementTimeoutMs?: number;
  logger?: Logger;
  debug?: boolean;
  connect?: boolean;
}

export function ormOptions(settings: OrmSettings): Options {
  return defineConfig({
    clientUrl: settings.databaseUrl,
    entities,
    // The app connects in start(); init only discovers metadata.
    connect: settings.connect ?? true,
    extensions: [Migrator],
    forceUtcTimezone: true,
    // Entities are discovered from the list above, never from folders or TS sources.
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
      migrationsList,
    },
  });
}

export async function createOrm(settings: OrmSettings): Promise<MikroORM> {
  return MikroORM.init(ormOptions(settings));
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
