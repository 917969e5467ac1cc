import { createApp, type App } from '../src/app';
import { testConfig } from './helpers/app';
import { createUser } from './helpers/factories';
import { gql } from './helpers/graphql';
import { PrivatePostgres, PrivateRedis } from './helpers/processes';

// These tests stop and restart their own Redis and PostgreSQL servers, never the shared ones.

async function startApp(env: Record<string, string>): Promise<{ app: App; url: string; base: string }> {
  const app = await createApp(testConfig({ REDIS_KEY_PREFIX: 'fault:', DB_STATEMENT_TIMEOUT_MS: '2000', ...env }), { migrate: false });
  const { url } = await app.start();
  return { app, url, base: url.replace(/\/graphql$/, '') };
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in time; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('PostgreSQL restarted under a running server', () => {
  let postgres: PrivatePostgres;
  let app: App | undefined;
  beforeAll(async () => {
    postgres = await PrivatePostgres.start();
  }, 90_000);
  afterAll(async () => {
    await app?.stop();
    await postgres.destroy();
  });

  it('fails requests during the outage within 5 s with SERVICE_UNAVAILABLE, then recovers without a restart', async () => {
    const started = await startApp({ DATABASE_URL: postgres.url });
    app = started.app;
    const user = await createUser(app);
    const me = () => gql(started.url, '{ me { id } }', {}, { token: user.token });
    expect((await me()).data).toEqual({ me: { id: user.id } });

    await postgres.stop();
    const began = Date.now();
    const during = await me();
    expect(Date.now() - began).toBeLessThan(5000);
    expect(during.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(during)).not.toMatch(/ECONNREFUSED|5432|stack/i);
    const ready = await fetch(`${started.base}/readyz`);
    expect(ready.status).toBe(503);

    await postgres.resume();
    const after = await eventually(me, (response) => response.data?.me?.id === user.id);
    expect(after.errors).toBeUndefined();
    expect((await fetch(`${started.base}/readyz`)).status).toBe(200);
  }, 90_000);
});

describe('Redis unavailable, then back', () => {
  let redis: PrivateRedis;
  let app: App | undefined;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
  });
  afterAll(async () => {
    await app?.stop();
    await redis.stop();
  });

  it('keeps answering, reports it on /readyz, counts failed publishes, and recovers by itself', async () => {
    const started = await startApp({ REDIS_URL: redis.url });
    app = started.app;
    const user = await createUser(app);
    expect((await fetch(`${started.base}/readyz`)).status).toBe(200);

    await redis.stop();
    const ready = await eventually(() => fetch(`${started.base}/readyz`), (response) => response.status === 503);
    expect(((await ready.json()) as { checks: { redis: string } }).checks.redis).not.toBe('ok');
    // Requests that do not need Redis keep working.
    expect((await gql(started.url, '{ me { id } }', {}, { token: user.token })).data).toEqual({ me: { id: user.id } });
    const failuresBefore = app.services.bus.stats.publishFailures;
    await app.services.bus.publish('probe', { type: 'probe' });
    expect(app.services.bus.stats.publishFailures).toBe(failuresBefore + 1);

    await redis.resume();
    await eventually(() => fetch(`${started.base}/readyz`), (response) => response.status === 200);
  }, 60_000);
});
