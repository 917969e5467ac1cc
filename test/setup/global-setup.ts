import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { migrateWithLock } from '../../src/shared/orm';
import { createAppOrm } from '../../src/database';
import { startEmbeddedPostgres } from '../../src/shared/embedded-postgres';
import { createLogger } from '../../src/shared/logger';
import { BASE_URL_ENV, databaseUrl, REDIS_URL_ENV, RUN_ID_ENV, templateDatabaseName, workerDatabaseName } from './test-infra';

/**
 * One PostgreSQL for the run (DATABASE_URL, or an embedded one), a template database migrated
 * once, and a copy per jest worker. Redis from REDIS_URL, else the local default when it answers.
 */
export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  const logger = createLogger({ logLevel: 'warn' });
  let baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    // A throwaway cluster per run: concurrent runs never share one, and a killed run leaves nothing behind that matters.
    removeStaleClusters();
    const dataDir = path.join(EMBEDDED_ROOT, String(process.pid));
    const embedded = await startEmbeddedPostgres(dataDir, logger, { database: 'postgres' });
    (globalThis as Record<string, unknown>).__embeddedPostgres = { stop: async () => { await embedded.stop(); fs.rmSync(dataDir, { recursive: true, force: true }); } };
    baseUrl = embedded.url;
    console.log(`\n[test] DATABASE_URL unset: using an embedded PostgreSQL (${baseUrl.replace(/:[^:@/]*@/, ':***@')})`);
  }
  const runId = String(process.pid);
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await dropStaleDatabases(admin);
    const template = templateDatabaseName(runId);
    await admin.query(`drop database if exists "${template}" with (force)`);
    await admin.query(`create database "${template}"`);
    const orm = await createAppOrm({ databaseUrl: databaseUrl(baseUrl, template) });
    try {
      await migrateWithLock(orm, databaseUrl(baseUrl, template));
    } finally {
      await orm.close(true);
      // In-band runs share this process with the tests: drop the ORM's global entity
      // metadata so the tests' own copy of MikroORM discovers entities afresh.
      for (const key of Object.keys(globalThis)) if (key.startsWith('mikro-orm-')) delete (globalThis as Record<string, unknown>)[key];
    }
    const workers = Math.max(1, globalConfig.maxWorkers);
    for (let worker = 1; worker <= workers; worker += 1) {
      const name = workerDatabaseName(runId, worker);
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.query(`create database "${name}" template "${template}"`);
    }
  } finally {
    await admin.end();
  }
  process.env[RUN_ID_ENV] = runId;
  process.env[BASE_URL_ENV] = baseUrl;
  process.env[REDIS_URL_ENV] = (await findRedis()) ?? '';
  if (!process.env[REDIS_URL_ENV]) {
    if (process.env.REQUIRE_REDIS === '1') throw new Error('REQUIRE_REDIS=1 but no Redis answers (set REDIS_URL or start redis on 127.0.0.1:6379)');
    console.log('\n[test] No Redis answers: tests that need Redis will be SKIPPED (set REQUIRE_REDIS=1 to fail instead)');
  }
}

const EMBEDDED_ROOT = path.join(__dirname, '..', '..', '.data', 'test-clusters');

function removeStaleClusters(): void {
  if (!fs.existsSync(EMBEDDED_ROOT)) return;
  for (const entry of fs.readdirSync(EMBEDDED_ROOT)) {
    if (!isAlive(Number(entry))) fs.rmSync(path.join(EMBEDDED_ROOT, entry), { recursive: true, force: true });
  }
}

/** Databases of earlier runs whose jest process is gone (crashed or killed). */
async function dropStaleDatabases(admin: Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname ~ '^chat_t[0-9]+_'`);
  for (const { datname } of rows) {
    const pid = Number(/^chat_t(\d+)_/.exec(datname)?.[1]);
    if (isAlive(pid)) continue;
    await admin.query(`drop database if exists "${datname}" with (force)`).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function findRedis(): Promise<string | null> {
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return url;
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}
