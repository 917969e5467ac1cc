import { Client } from 'pg';
import { BASE_URL_ENV, RUN_ID_ENV, templateDatabaseName, workerDatabaseName } from './test-infra';

export default async function globalTeardown(globalConfig: { maxWorkers: number }): Promise<void> {
  const runId = process.env[RUN_ID_ENV];
  const baseUrl = process.env[BASE_URL_ENV];
  if (runId && baseUrl) {
    const admin = new Client({ connectionString: baseUrl });
    await admin.connect();
    try {
      for (let worker = 1; worker <= Math.max(1, globalConfig.maxWorkers); worker += 1) {
        await admin.query(`drop database if exists "${workerDatabaseName(runId, worker)}" with (force)`);
      }
      await admin.query(`drop database if exists "${templateDatabaseName(runId)}" with (force)`);
    } finally {
      await admin.end();
    }
  }
  const embedded = (globalThis as Record<string, unknown>).__embeddedPostgres as { stop(): Promise<void> } | undefined;
  await embedded?.stop();
}
