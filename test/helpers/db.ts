import type { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import type { App } from '../../src/app';
import { workerDatabaseUrl } from './app';
import { DEFAULT_CHANNEL_NAME } from '../../src/channels/channel.entity';

/** Empties every table (keeping the migrations table) and recreates the `public` channel. */
export async function resetDatabase(orm: MikroORM): Promise<void> {
  const connection = orm.em.getConnection();
  const rows = await connection.execute<{ tablename: string }[]>(
    `select tablename from pg_tables where schemaname = 'public' and tablename <> 'mikro_orm_migrations'`,
  );
  if (rows.length > 0) {
    await connection.execute(`truncate ${rows.map((row) => `"${row.tablename}"`).join(', ')} restart identity cascade`);
  }
  await connection.execute(
    `insert into channels (id, name, description, kind) values (gen_random_uuid(), ?, 'The channel everyone joins.', 'PUBLIC')`,
    [DEFAULT_CHANNEL_NAME],
  );
}

/** Deletes this app's Redis keys (caches, rate limits), leaving other workers' alone. */
export async function resetRedis(app: App): Promise<void> {
  const redis = app.services.redis;
  if (!redis) return;
  const prefix = app.services.config.redisKeyPrefix;
  let cursor = '0';
  do {
    const [next, keys] = await redis.command.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.command.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export async function resetState(app: App): Promise<void> {
  await resetDatabase(app.services.orm);
  await resetRedis(app);
}

/** Counts SQL statements the app sends while `fn` runs (for N+1 bounds). */
export async function countQueries<T>(app: App, fn: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  const connection = app.services.orm.em.getConnection();
  const knex = connection.getKnex();
  const queries: string[] = [];
  const listener = (query: { sql: string }) => queries.push(query.sql);
  knex.on('query', listener);
  // The hot paths run plain SQL on their own pool (src/shared/sql.ts).
  const stopListening = app.services.sql.onQuery((text) => queries.push(text));
  try {
    const result = await fn();
    return { result, queries };
  } finally {
    knex.off('query', listener);
    stopListening();
  }
}

/**
 * Runs `request` with the channels table locked (the access check reads it) and waits until a
 * statement matching `statement` has gone out while the request is still pending: the read
 * does not wait for the access check. Then unlocks and answers the request's result.
 */
export async function sentBesideAccessCheck<T>(app: App, statement: RegExp, request: () => Promise<T>): Promise<T> {
  const statements: string[] = [];
  const stopListening = app.services.sql.onQuery((text) => statements.push(text));
  const locker = new Client({ connectionString: workerDatabaseUrl() });
  await locker.connect();
  try {
    await locker.query('begin');
    await locker.query('lock table channels in access exclusive mode');
    let settled = false;
    const pending = request().finally(() => (settled = true));
    const deadline = Date.now() + 5000;
    while (!statements.some((text) => statement.test(text))) {
      if (Date.now() > deadline) throw new Error(`no statement matching ${statement} while the access check waited`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (settled) throw new Error('the request was answered while the access check was held');
    await locker.query('commit');
    return await pending;
  } finally {
    await locker.query('rollback').catch(() => undefined);
    await locker.end();
    stopListening();
  }
}
