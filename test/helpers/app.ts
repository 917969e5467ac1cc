import { type Config, loadConfig } from '../../src/config';
import { type App, createApp } from '../../src/app';
import { BASE_URL_ENV, databaseUrl, REDIS_URL_ENV, RUN_ID_ENV, workerDatabaseName } from '../setup/test-infra';
import { resetState } from './db';
import { disposeAllWsClients } from './ws';

/** This worker's own database (a copy of the migrated template). */
export function workerDatabaseUrl(): string {
  const runId = process.env[RUN_ID_ENV];
  const baseUrl = process.env[BASE_URL_ENV];
  if (!runId || !baseUrl) throw new Error('test database not prepared: run tests through jest (global setup)');
  return databaseUrl(baseUrl, workerDatabaseName(runId, process.env.JEST_WORKER_ID ?? '1'));
}

/** The Redis URL tests may use, or null when none answered in global setup. */
export function testRedisUrl(): string | null {
  return process.env[REDIS_URL_ENV] || null;
}

/** Runs a describe block only when Redis is there, saying so visibly otherwise. */
export const describeWithRedis: jest.Describe = ((name: string, fn: () => void) => {
  if (testRedisUrl()) return describe(name, fn);
  return describe.skip(`${name} [SKIPPED: no Redis]`, fn);
}) as jest.Describe;

/** Keys and pub/sub topics of one test worker never meet another's. */
export function testRedisPrefix(): string {
  return `chat-test:${process.env[RUN_ID_ENV]}:${process.env.JEST_WORKER_ID ?? '1'}:`;
}

export function testConfig(env: Record<string, string | undefined> = {}): Config {
  const redisUrl = testRedisUrl();
  return loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: workerDatabaseUrl(),
    REDIS_URL: redisUrl ?? undefined,
    REDIS_KEY_PREFIX: testRedisPrefix(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Cheap hashing keeps the suite fast; production config enforces OWASP's floor.
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_ITERATIONS: '1',
    DB_POOL_MAX: '5',
    // Suites send in bulk; test/rate-limits.test.ts sets real limits.
    RATE_LIMIT_SEND_MESSAGE: '1000000/1',
    RATE_LIMIT_DIRECT_CHANNEL: '1000000/1',
    RATE_LIMIT_EDIT_MESSAGE: '1000000/1',
    RATE_LIMIT_VOTE: '1000000/1',
    RATE_LIMIT_SET_TYPING: '1000000/1',
    RATE_LIMIT_CREATE_CHANNEL: '1000000/1',
    RATE_LIMIT_SIGNUP_PER_IP: '1000000/1',
    // Every test socket comes from 127.0.0.1; test/security-sockets.test.ts sets real caps.
    WS_MAX_CONNECTIONS_PER_ADDRESS: '1000000',
    WS_MAX_ANONYMOUS_CONNECTIONS: '1000000',
    ...env,
  });
}

export interface TestApp {
  app: App;
  url: string;
  wsUrl: string;
  port: number;
  stop(): Promise<void>;
}

const running = new Set<TestApp>();

/** Starts an app on a free port; stopAllApps() (in afterAll) closes whatever is left. */
export async function startTestApp(env: Record<string, string | undefined> = {}): Promise<TestApp> {
  const app = await createApp(testConfig(env), { migrate: false });
  const { url, port } = await app.start();
  const testApp: TestApp = {
    app,
    url,
    port,
    wsUrl: url.replace(/^http/, 'ws'),
    async stop() {
      running.delete(testApp);
      await app.stop();
    },
  };
  running.add(testApp);
  return testApp;
}

export async function stopAllApps(): Promise<void> {
  await Promise.all([...running].map((testApp) => testApp.stop()));
}

/**
 * The usual hooks of a suite: one server for the file, a clean database and Redis before
 * each test, and every leftover socket and app closed at the end. Use `suite.server`.
 */
export function useTestServer(env: Record<string, string | undefined> = {}): { readonly server: TestApp } {
  const suite = {} as { server: TestApp };
  beforeAll(async () => {
    suite.server = await startTestApp(env);
  });
  beforeEach(() => resetState(suite.server.app));
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });
  return suite;
}

/**
 * Two instances on the same database and Redis, for the scale-out suites: `started` receives
 * them once up; the database and Redis are reset before each test, sockets closed after it,
 * and everything stopped at the end.
 */
export function useTwoTestServers(started: (servers: [TestApp, TestApp]) => void, env: Record<string, string | undefined> = {}): void {
  let first: TestApp;
  beforeAll(async () => {
    const servers = await Promise.all([startTestApp(env), startTestApp(env)]);
    first = servers[0];
    started(servers);
  });
  beforeEach(() => resetState(first.app));
  afterEach(() => disposeAllWsClients());
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });
}
