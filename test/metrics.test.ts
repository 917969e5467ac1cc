import { loadConfig } from '../src/config';
import { startTestApp, stopAllApps, testConfig, type TestApp } from './helpers/app';
import { createChannel } from './helpers/channels';
import { createUser, type TestUser } from './helpers/factories';
import { gql, gqlOk } from './helpers/graphql';
import { sendMessage } from './helpers/messages';
import { connectWs, disposeAllWsClients } from './helpers/ws';
import { createApp } from '../src/app';

const TOKEN = 'metrics-token-0123456789';

interface Family {
  type: string;
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

/**
 * The Prometheus text exposition format (version 0.0.4): `# TYPE` lines and samples
 * `name{label="value",...} number`. (The npm parser tried, parse-prometheus-text-format,
 * merges a labelled histogram's series into one.)
 */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.set(type[1]!, (current = { type: type[2]!, samples: [] }));
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!match || !current) throw new Error(`not exposition format: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((label) => [label[1]!, label[2]!]));
    current.samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return families;
}

async function scrape(url: string, token: string | null = TOKEN): Promise<Map<string, Family>> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

/** The value of the family's sample with these labels (a histogram's: its count). */
function sample(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.get(name);
  const sampleName = family?.type === 'histogram' ? `${name}_count` : name;
  return family?.samples.find((one) => one.name === sampleName && Object.entries(labels).every(([key, value]) => one.labels[key] === value))?.value;
}

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Prometheus metrics', () => {
  let server: TestApp;
  let metricsUrl: string;
  let alice: TestUser;

  beforeAll(async () => {
    server = await startTestApp({ METRICS_TOKEN: TOKEN });
    metricsUrl = server.url.replace(/\/graphql$/, '/metrics');
    alice = await createUser(server.app);
  });
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  test('GET /metrics needs the METRICS_TOKEN bearer token on the API port', async () => {
    expect((await fetch(metricsUrl)).status).toBe(401);
    expect((await fetch(metricsUrl, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  test('requests by operation and outcome with latency, errors by code, sockets, subscriptions, deliveries, send batches, pool, event loop, process', async () => {
    await gqlOk(server.url, 'query Me { me { id } }', {}, { token: alice.token });
    await gqlOk(server.url, 'query Me { me { id } }', {}, { token: alice.token });
    const invalid = await gql(server.url, 'query Broken { nope }');
    expect(invalid.status).toBe(400);
    const unauthenticated = await gql(server.url, 'query History { messages(channelId: "00000000-0000-0000-0000-000000000000") { edges { cursor } } }');
    expect(unauthenticated.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const channel = await createChannel(server.url, alice);
    const client = connectWs(server.wsUrl, alice.token);
    const before = server.app.services.realtime.activeStreams;
    const events = client.subscribe('subscription { channelEvents(channelId: "' + channel.id + '") { __typename } }');
    await waitFor(() => server.app.services.realtime.activeStreams > before, 'the stream to go live');
    await sendMessage(server.url, alice.token, channel.id, 'counted');
    await events.next();
    const wsError = await client.subscribe('subscription { channelEvents(channelId: "00000000-0000-0000-0000-000000000000") { __typename } }').next();
    expect(wsError.errors?.[0]?.extensions?.code).toBeDefined();
    const wsCode = String(wsError.errors![0]!.extensions!.code);

    const metrics = await scrape(metricsUrl);
    expect(sample(metrics, 'chat_http_requests_total', { operation: 'Me', outcome: 'ok' })).toBe(2);
    expect(sample(metrics, 'chat_http_requests_total', { operation: 'History', outcome: 'error' })).toBe(1);
    expect(sample(metrics, 'chat_http_requests_total', { operation: 'Broken', outcome: 'rejected' })).toBe(1);
    expect(metrics.get('chat_http_request_duration_seconds')?.type).toBe('histogram');
    expect(sample(metrics, 'chat_http_request_duration_seconds', { operation: 'Me', outcome: 'ok' })).toBe(2);
    expect(sample(metrics, 'chat_graphql_errors_total', { code: 'UNAUTHENTICATED', transport: 'http' })).toBe(1);
    expect(sample(metrics, 'chat_graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED', transport: 'http' })).toBe(1);
    expect(sample(metrics, 'chat_graphql_errors_total', { code: wsCode, transport: 'ws' })).toBe(1);
    expect(sample(metrics, 'chat_ws_open_sockets')).toBe(1);
    expect(sample(metrics, 'chat_active_subscriptions')).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, 'chat_ws_frames_sent_total')).toBeGreaterThanOrEqual(3);
    expect(sample(metrics, 'chat_ws_slow_consumers_dropped_total')).toBe(0);
    expect(metrics.get('chat_send_batch_size')?.type).toBe('histogram');
    expect(sample(metrics, 'chat_send_batch_size')).toBe(1);
    expect(sample(metrics, 'chat_events_published_total')).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, 'chat_publish_failures_total')).toBe(0);
    expect(sample(metrics, 'chat_db_pool_connections', { state: 'max' })).toBe(5);
    expect(sample(metrics, 'chat_db_pool_connections', { state: 'in_use' })).toBeGreaterThanOrEqual(0);
    expect(metrics.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(metrics.has('process_cpu_user_seconds_total')).toBe(true);
    expect(metrics.has('nodejs_heap_size_used_bytes')).toBe(true);

    // The socket's close is counted by its code once it is gone.
    await client.dispose();
    await waitFor(async () => sample(await scrape(metricsUrl), 'chat_ws_connections_closed_total', { code: '1000' }) === 1, 'the close to be counted');
    expect(sample(await scrape(metricsUrl), 'chat_ws_open_sockets')).toBe(0);
  });

  test('operation names a client makes up cannot grow the series without bound', () => {
    const names = Array.from({ length: 250 }, (_, i) => server.app.metrics.operationLabel(`Op${i}`));
    expect(new Set(names).size).toBeLessThanOrEqual(201);
    expect(names.at(-1)).toBe('other');
    expect(server.app.metrics.operationLabel('not a name!')).toBe('other');
    expect(server.app.metrics.operationLabel(undefined)).toBe('anonymous');
  });

  test('each app instance has its own registry; METRICS_PORT serves them on a port of their own', async () => {
    const other = await createApp(testConfig({ METRICS_PORT: '0' }), { migrate: false });
    try {
      const { metricsPort, url } = await other.start();
      expect(metricsPort).toEqual(expect.any(Number));
      // Not on the API port without a token.
      expect((await fetch(url.replace(/\/graphql$/, '/metrics'))).status).toBe(404);
      const own = await scrape(`http://127.0.0.1:${metricsPort}/metrics`, null);
      expect(sample(own, 'chat_http_requests_total', { operation: 'Me' })).toBeUndefined();
      expect(sample(own, 'chat_ws_open_sockets')).toBe(0);
    } finally {
      await other.stop();
    }
  });

  test('METRICS_TOKEN and METRICS_PORT are validated', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() => loadConfig({ METRICS_PORT: 'x' })).toThrow(/METRICS_PORT/);
    expect(loadConfig({}).metricsPort).toBeNull();
  });
});
