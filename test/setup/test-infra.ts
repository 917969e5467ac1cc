// Shared between global setup/teardown and the test helpers: names of this run's databases.
export const RUN_ID_ENV = 'CHAT_TEST_RUN_ID';
export const BASE_URL_ENV = 'CHAT_TEST_DATABASE_URL';
export const REDIS_URL_ENV = 'CHAT_TEST_REDIS_URL';

export function templateDatabaseName(runId: string): string {
  return `chat_t${runId}_template`;
}

export function workerDatabaseName(runId: string, workerId: string | number): string {
  return `chat_t${runId}_w${workerId}`;
}

export function databaseUrl(baseUrl: string, database: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
