// The one way requests reach PostgreSQL: plain parameterized SQL (`$1..$n`) on a `pg` pool,
// written only in the features' `*.queries.ts` modules. MikroORM keeps the schema (entities,
// migrations); it serves no request.
import type DataLoader from 'dataloader';
import { Pool, type PoolClient, Query, type QueryResult, types } from 'pg';
import { sharedBatchLoader } from './batch';
import type { Logger } from './logger';
import { parseTimestamptz, TIMESTAMPTZ_OID } from './pg-timestamps';

export interface SqlSettings {
  databaseUrl: string;
  poolMax: number;
  /** Bounds every statement and the wait for a connection. */
  statementTimeoutMs: number;
  logger: Logger;
}

/** Runs statements: the pool (each statement autocommitted) or one transaction (SqlPool.transaction). */
export interface SqlClient {
  /**
   * Rows of one statement. A `name` makes it a prepared statement, parsed and planned once
   * per connection: give one to every statement the hot path repeats.
   */
  query<R>(text: string, values?: readonly unknown[], name?: string): Promise<R[]>;
}

type SubmitWithCallback = (query: Query, callback: (error: Error | null, result: QueryResult) => void) => void;

/**
 * One statement on a pool or a client, as pg's own Query object: a config object (`{ text,
 * values, name }`) is copied by pg descriptor by descriptor for every statement
 * (cloneQueryConfig), 1-3 µs of the ~20 µs of client CPU a statement costs.
 */
function submit(target: Pool | PoolClient, text: string, values: readonly unknown[] | undefined, name: string | undefined): Promise<QueryResult> {
  const query = new Query(text, values as unknown[] | undefined);
  if (name) (query as { name?: string }).name = name;
  return new Promise((resolve, reject) => {
    // The typings know a Submittable only without a callback; pool and client both take one.
    (target.query as unknown as SubmitWithCallback).call(target, query, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * A statement's error with a stack that leads back to the code that ran it (through the
 * awaits), as pg gives its promise API's errors: created while parsing the server's answer,
 * its own stack names only pg's socket reader.
 */
function withCallerStack(error: unknown): unknown {
  if (error instanceof Error) Error.captureStackTrace(error, withCallerStack);
  return error;
}

/** pg's type parsers, with a faster `timestamptz` (shared/pg-timestamps.ts): this pool's own, pg's global ones untouched. */
function hotPathTypes(): { getTypeParser: typeof types.getTypeParser } {
  return {
    getTypeParser: ((oid: number, format?: string) => (oid === TIMESTAMPTZ_OID && (format ?? 'text') === 'text' ? parseTimestamptz : types.getTypeParser(oid, format as 'text'))) as typeof types.getTypeParser,
  };
}

/**
 * The share of DB_POOL_MAX kept for statements planned once (SqlPool.plannedOnce): a sixth
 * (2 of the default 12, leaving the request pool its 10), at least one connection, none below
 * two (then they share the request pool). Sends wait for connections of the request pool at
 * once (32 clients: 1,700 vs 1,900-2,300 a second with 8 instead of 10), pages are batched.
 */
function plannedOnceConnections(poolMax: number): number {
  return poolMax < 2 ? 0 : Math.max(1, Math.floor(poolMax / 6));
}

export class SqlPool implements SqlClient {
  /**
   * Statements whose best plan is the same whatever their values (keyset pages over an index,
   * batched as arrays): prepared on connections with plan_cache_mode=force_generic_plan, so
   * PostgreSQL plans them once per connection. Left to "auto", it planned a batched page
   * again at every execution, as the generic plan's estimate cannot see the arrays' lengths
   * and always looked dearer (283 µs of PostgreSQL CPU a page against 147 planned once).
   * Only for statements written for it: a LIKE pattern or a LIMIT that decides the plan wants
   * the values, and runs on the request pool.
   */
  readonly plannedOnce: SqlClient;
  private readonly pool: Pool;
  private readonly plannedOncePool: Pool | null;
  private readonly max: number;
  private readonly listeners = new Set<(text: string) => void>();
  private readonly loaders = new Map<string, DataLoader<unknown, unknown>>();

  constructor(settings: SqlSettings) {
    this.max = settings.poolMax;
    const reserved = plannedOnceConnections(settings.poolMax);
    const pool = (max: number, options?: string) =>
      new Pool({
        connectionString: settings.databaseUrl,
        max,
        idleTimeoutMillis: 10_000,
        connectionTimeoutMillis: settings.statementTimeoutMs,
        statement_timeout: settings.statementTimeoutMs,
        application_name: 'chat-api',
        types: hotPathTypes(),
        ...(options ? { options } : {}),
      });
    this.pool = pool(settings.poolMax - reserved);
    this.plannedOncePool = reserved > 0 ? pool(reserved, '-c plan_cache_mode=force_generic_plan') : null;
    // An idle connection that breaks (database restart) is dropped by the pool; only log it.
    for (const one of [this.pool, this.plannedOncePool]) one?.on('error', (error) => settings.logger.warn({ err: error.message }, 'idle PostgreSQL connection failed'));
    const plannedOnce = this.plannedOncePool;
    this.plannedOnce = plannedOnce ? { query: (text, values, name) => this.runOn(plannedOnce, text, values, name) } : this;
  }

  /**
   * The instance-wide batch loader `name` (created by the first caller): lookups of concurrent
   * requests share one statement, and nothing is cached (see shared/batch.ts).
   */
  batchLoader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>): DataLoader<K, V> {
    let loader = this.loaders.get(name) as DataLoader<K, V> | undefined;
    if (!loader) {
      loader = sharedBatchLoader(batch);
      this.loaders.set(name, loader as DataLoader<unknown, unknown>);
    }
    return loader;
  }

  /** Calls `listener` with the text of every statement run (tests count statements with it). */
  onQuery(listener: (text: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Rows of one statement (autocommitted); see SqlClient. */
  query<R>(text: string, values?: readonly unknown[], name?: string): Promise<R[]> {
    return this.runOn(this.pool, text, values, name);
  }

  /**
   * Runs `work` in one transaction on one connection: committed when it resolves, rolled back
   * when it throws (the error passes on). For the locking writes (`for update`, counters).
   */
  async transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: unknown;
    try {
      await client.query('begin');
      const result = await work({ query: (text, values, name) => this.run(client, text, values, name) });
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch((rollbackError: unknown) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      // A connection that could not roll back is dropped rather than reused.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  private async runOn<R>(pool: Pool, text: string, values: readonly unknown[] | undefined, name: string | undefined): Promise<R[]> {
    this.notify(text);
    try {
      return (await submit(pool, text, values, name)).rows as R[];
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  private async run<R>(client: PoolClient, text: string, values: readonly unknown[] | undefined, name: string | undefined): Promise<R[]> {
    this.notify(text);
    try {
      return (await submit(client, text, values, name)).rows as R[];
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  private notify(text: string): void {
    for (const listener of this.listeners) listener(text);
  }

  /** Connections open, idle and waited for, and the pool's size (for /metrics). */
  stats(): { total: number; idle: number; waiting: number; max: number } {
    const pools = [this.pool, this.plannedOncePool].filter((pool): pool is Pool => pool !== null);
    const sum = (count: (pool: Pool) => number) => pools.reduce((total, pool) => total + count(pool), 0);
    return { total: sum((pool) => pool.totalCount), idle: sum((pool) => pool.idleCount), waiting: sum((pool) => pool.waitingCount), max: this.max };
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.plannedOncePool?.end()]);
  }
}

/** The constraint a statement broke with unique_violation (23505), or null for any other error. */
export function uniqueViolation(error: unknown): string | null {
  const err = error as { code?: string; constraint?: string } | null;
  return err?.code === '23505' ? (err.constraint ?? '') : null;
}

/** `%`, `_` and `\` match literally inside a LIKE pattern (with `escape '\'`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
