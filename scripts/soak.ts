// Soak run (npm run soak -- --minutes N): the compiled server in its own process, many
// sockets with live subscriptions, steady sends, typing and reconnect churn; prints the
// server's memory, heap, open resources and error counts over time, then whether they
// stayed flat after warm-up. Talks only to 127.0.0.1 and stops by itself.
import http from 'node:http';
import { type Client as WsClient, createClient } from 'graphql-ws';
import { Client as PgClient } from 'pg';
import WebSocket from 'ws';
import { spawnServer } from './lib/server-process';

interface Options {
  minutes: number;
  users: number;
  sendsPerSecond: number;
  sampleSeconds: number;
}

interface Sample {
  atSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  activeResources: number;
  wsConnections: number;
  activeStreams: number;
  publishFailures: number;
  unexpectedErrors: number;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number) => {
    const index = argv.indexOf(`--${name}`);
    if (index === -1) return fallback;
    const parsed = Number(argv[index + 1]);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} needs a positive number`);
    return parsed;
  };
  const minutes = value('minutes', 1);
  return {
    minutes,
    users: Math.round(value('users', 100)),
    sendsPerSecond: value('rate', 20),
    sampleSeconds: value('sample-seconds', Math.max(5, Math.round((minutes * 60) / 30))),
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

const SOAK_METRICS_TOKEN = `soak-metrics-${process.pid}-0123456789`;

/** The soak's numbers from the server's Prometheus /metrics (unlabelled samples). */
async function scrapeMetrics(url: string): Promise<Omit<Sample, 'atSeconds'>> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${SOAK_METRICS_TOKEN}` } });
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  const values = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)$/.exec(line);
    if (match) values.set(match[1], Number(match[2]));
  }
  const value = (name: string) => values.get(name) ?? 0;
  return {
    rssBytes: value('process_resident_memory_bytes'),
    heapUsedBytes: value('nodejs_heap_size_used_bytes'),
    activeResources: value('nodejs_active_resources_total'),
    wsConnections: value('chat_ws_open_sockets'),
    activeStreams: value('chat_active_subscriptions'),
    publishFailures: value('chat_publish_failures_total'),
    unexpectedErrors: value('chat_unexpected_errors_total'),
  };
}

function request(url: string, method: 'GET' | 'POST', body?: unknown, token?: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const req = http.request(url, { method, agent, headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new Error(`non-JSON response ${res.statusCode}: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

interface SoakUser {
  token: string;
  client: WsClient | null;
  lastCursor: string | null;
}

const CHANNEL_EVENTS = `subscription ($channelId: ID!, $after: String) {
  channelEvents(channelId: $channelId, after: $after) { __typename ... on MessageAdded { cursor message { id body author { username } } } }
}`;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const baseDatabaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const database = `chat_soak_${process.pid}`;
  const admin = new PgClient({ connectionString: baseDatabaseUrl });
  await admin.connect();
  await admin.query(`create database "${database}"`);
  const databaseUrl = new URL(baseDatabaseUrl);
  databaseUrl.pathname = `/${database}`;

  console.log(`soak: ${options.minutes} min, ${options.users} users with 2 subscriptions each, ${options.sendsPerSecond} sends/s, sample every ${options.sampleSeconds} s`);
  const server = spawnServer({
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    // info: the soak waits for the server's "ready" line; the rest of its log is dropped.
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl.toString(),
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `soak:${process.pid}:`,
    METRICS_TOKEN: SOAK_METRICS_TOKEN,
    RATE_LIMIT_SEND_MESSAGE: '1000000/1',
    RATE_LIMIT_DIRECT_CHANNEL: '1000000/1',
    RATE_LIMIT_EDIT_MESSAGE: '1000000/1',
    RATE_LIMIT_VOTE: '1000000/1',
    RATE_LIMIT_SET_TYPING: '1000000/1',
    RATE_LIMIT_SIGNUP_PER_IP: '1000000/1',
  });
  const child = server.child;
  const url = await server.ready();
  // A 30-minute run must not keep the server's whole log in memory.
  server.discardOutput();
  const base = url.replace(/\/graphql$/, '');
  const wsUrl = url.replace(/^http/, 'ws');
  let clientErrors = 0;
  let eventsReceived = 0;
  let sendsOk = 0;
  let sendsFailed = 0;
  const failures = new Map<string, number>();
  const failure = (reason: string) => {
    sendsFailed += 1;
    failures.set(reason, (failures.get(reason) ?? 0) + 1);
  };

  const users: SoakUser[] = [];
  for (let i = 0; i < options.users; i += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, options.users - i) }, (_, j) =>
        request(url, 'POST', {
          query: 'mutation ($input: SignupInput!) { signup(input: $input) { token } }',
          variables: { input: { email: `soak${i + j}@example.test`, username: `soak_${i + j}`, password: 'soak password 123' } },
        }),
      ),
    );
    for (const response of batch) users.push({ token: response.data.signup.token, client: null, lastCursor: null });
  }
  const channels = await request(url, 'POST', { query: '{ myChannels { id name } }' }, users[0].token);
  const channelId: string = channels.data.myChannels.find((c: { name: string }) => c.name === 'public').id;

  const connect = (user: SoakUser) => {
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { authorization: `Bearer ${user.token}` }, onNonLazyError: () => (clientErrors += 1) });
    user.client = client;
    client.subscribe(
      { query: CHANNEL_EVENTS, variables: { channelId, after: user.lastCursor } },
      {
        next: (result) => {
          eventsReceived += 1;
          const cursor = (result.data as any)?.channelEvents?.cursor;
          if (cursor) user.lastCursor = cursor;
          if (result.errors) clientErrors += 1;
        },
        error: () => (clientErrors += 1),
        complete: () => undefined,
      },
    );
    client.subscribe({ query: 'subscription { inbox { cursor } }' }, { next: () => (eventsReceived += 1), error: () => (clientErrors += 1), complete: () => undefined });
  };
  users.forEach(connect);

  const samples: Sample[] = [];
  const startedAt = Date.now();
  let endsAt = startedAt + options.minutes * 60_000;
  let running = true;
  // Ctrl-C ends the run early but still cleans up (server, database) and prints the summary.
  const stopEarly = () => {
    endsAt = Date.now();
  };
  process.once('SIGINT', stopEarly);
  process.once('SIGTERM', stopEarly);

  // Steady traffic: sends, typing now and then, and a few reconnects (resuming from the cursor).
  const traffic = (async () => {
    let n = 0;
    let inFlight = 0;
    const interval = 1000 / options.sendsPerSecond;
    while (running) {
      const user = users[n % users.length];
      n += 1;
      const send = request(url, 'POST', { query: 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }', variables: { input: { channelId, body: `soak ${n}` } } }, user.token)
        .then((response) => {
          if (response.data?.sendMessage) sendsOk += 1;
          else failure(response.errors?.[0]?.extensions?.code ?? 'no data');
        })
        .catch((error: Error) => failure(error.message));
      if (n % 10 === 0) void request(url, 'POST', { query: 'mutation ($c: ID!) { setTyping(channelId: $c) }', variables: { c: channelId } }, user.token).catch(() => (clientErrors += 1));
      if (n % 50 === 0) {
        const churned = users[(n * 7) % users.length];
        void churned.client?.dispose();
        connect(churned);
      }
      inFlight += 1;
      void send.finally(() => (inFlight -= 1));
      // A steady rate, whatever the latency; past 100 sends in flight the server is not keeping up.
      await new Promise((resolve) => setTimeout(resolve, interval));
      while (inFlight > 100 && running) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();

  console.log('t(s)  rss(MB)  heap(MB)  resources  sockets  streams  events  sends_ok  sends_failed  publish_failures  server_errors  client_errors');
  while (Date.now() < endsAt) {
    const sampleAt = Date.now() + options.sampleSeconds * 1000;
    while (Date.now() < Math.min(sampleAt, endsAt)) await new Promise((resolve) => setTimeout(resolve, 200));
    const metrics = await scrapeMetrics(`${base}/metrics`);
    const sample: Sample = { atSeconds: Math.round((Date.now() - startedAt) / 1000), ...metrics };
    samples.push(sample);
    console.log(
      [
        sample.atSeconds,
        (sample.rssBytes / 2 ** 20).toFixed(1),
        (sample.heapUsedBytes / 2 ** 20).toFixed(1),
        sample.activeResources,
        sample.wsConnections,
        sample.activeStreams,
        eventsReceived,
        sendsOk,
        sendsFailed,
        sample.publishFailures,
        sample.unexpectedErrors,
        clientErrors,
      ].join('  '),
    );
  }
  running = false;
  await traffic;
  await Promise.all(users.map((user) => user.client?.dispose()));
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  agent.destroy();
  await admin.query(`drop database if exists "${database}" with (force)`);
  await admin.end();

  // After warm-up (the first fifth), growth per minute by least squares.
  const settled = samples.slice(Math.floor(samples.length / 5));
  const slope = (pick: (s: Sample) => number) => {
    if (settled.length < 2) return 0;
    const xs = settled.map((s) => s.atSeconds / 60);
    const ys = settled.map(pick);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const num = xs.reduce((acc, x, i) => acc + (x - mx) * (ys[i] - my), 0);
    const den = xs.reduce((acc, x) => acc + (x - mx) ** 2, 0);
    return den === 0 ? 0 : num / den;
  };
  const heapSlope = slope((s) => s.heapUsedBytes / 2 ** 20);
  const rssSlope = slope((s) => s.rssBytes / 2 ** 20);
  const resources = settled.map((s) => s.activeResources);
  console.log(`\nafter warm-up: heap ${heapSlope.toFixed(2)} MB/min, rss ${rssSlope.toFixed(2)} MB/min, open resources ${Math.min(...resources)}..${Math.max(...resources)}`);
  console.log(`sends ok ${sendsOk}, failed ${sendsFailed}; events received ${eventsReceived}; server unexpected errors ${samples.at(-1)?.unexpectedErrors ?? 0}; client errors ${clientErrors}`);
  if (failures.size > 0) console.log(`send failures by reason: ${JSON.stringify(Object.fromEntries(failures))}`);
  const flat = Math.abs(heapSlope) < 1 && Math.abs(rssSlope) < 2;
  console.log(flat ? 'verdict: flat' : 'verdict: GROWING — investigate');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
