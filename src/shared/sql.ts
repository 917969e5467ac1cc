// The hot data path: plain parameterized SQL on a `pg` pool, next to MikroORM. Requests that
// run thousands of times a second (session lookups, channel access, history, sends) read and
// write rows here without query building or entity hydration; everything else uses the ORM.
import type DataLoader from 'dataloader';
import { Pool, type QueryConfig } from 'pg';
import { sharedBatchLoader } from './batch';
import type { Logger } from './logger';

export interface SqlSettings {
  databaseUrl: string;
  poolMax: number;
  /** Bounds every statement and the wait for a connection. */
  statementTimeoutMs: number;
  logger: Logger;
}

export class SqlPool {
  private readonly pool: Pool;
  private readonly max: number;
  private readonly listeners = new Set<(text: string) => void>();
  private readonly loaders = new Map<string, DataLoader<unknown, unknown>>();

  constructor(settings: SqlSettings) {
    this.max = settings.poolMax;
    this.pool = new Pool({
      connectionString: settings.databaseUrl,
      max: settings.poolMax,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: settings.statementTimeoutMs,
      statement_timeout: settings.statementTimeoutMs,
      application_name: 'chat-api',
    });
    // An idle connection that breaks (database restart) is dropped by the pool; only log it.
    this.pool.on('error', (error) => settings.logger.warn({ err: error.message }, 'idle PostgreSQL connection failed'));
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

  /**
   * Rows of one statement (autocommitted). A `name` makes it a prepared statement, parsed
   * and planned once per connection: give one to every statement the hot path repeats.
   */
  async query<R>(text: string, values?: readonly unknown[], name?: string): Promise<R[]> {
    for (const listener of this.listeners) listener(text);
    const config: QueryConfig = { text, values: values as unknown[] | undefined };
    if (name) config.name = name;
    const result = await this.pool.query(config);
    return result.rows as R[];
  }

  /** Connections open, idle and waited for, and the pool's size (for /metrics). */
  stats(): { total: number; idle: number; waiting: number; max: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount, max: this.max };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
