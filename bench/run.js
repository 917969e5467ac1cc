#!/usr/bin/env node
'use strict';
// npm run bench [-- --quick] [-- --only=fanout,sends,history,connections,subscribe,search,scale]
// (`scale`, two instances against one on a single Redis and on a Redis Cluster, runs only when named.)
//
// Starts the server (node dist/src/main.js) and the raw baselines as child processes against
// a bench database created from scratch on the local PostgreSQL and a per-run Redis key
// prefix, drives them from load-generator child processes, prints one table per scenario
// and writes bench/results/<timestamp>.json and latest.json. Everything is bounded in time
// and stops by itself; the database and Redis keys are removed at the end.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');
const { Redis } = require('ioredis');
const procs = require('./lib/procs');
const db = require('./lib/db');
const { createClient } = require('./lib/http-gql');
const { table } = require('./lib/report');
const docs = require('./lib/documents');
const modes = require('./lib/params');

const ROOT = path.join(__dirname, '..');
// BENCH_RESULTS_DIR: where the JSON goes (the test uses a temporary directory).
const RESULTS = process.env.BENCH_RESULTS_DIR || path.join(__dirname, 'results');
const SCENARIOS = [
  // Run order: connections first, on fresh processes (its figure is memory growth).
  { key: 'connections', number: 4, module: './scenarios/connections' },
  { key: 'subscribe', number: 5, module: './scenarios/subscribe' },
  { key: 'fanout', number: 1, module: './scenarios/fanout' },
  { key: 'sends', number: 2, module: './scenarios/sends' },
  { key: 'history', number: 3, module: './scenarios/history' },
  { key: 'search', number: 6, module: './scenarios/search' },
  { key: 'reactions', number: 8, module: './scenarios/reactions' },
  { key: 'threads', number: 9, module: './scenarios/threads' },
  { key: 'request', number: 10, module: './scenarios/request' },
  { key: 'attention', number: 11, module: './scenarios/attention' },
  // Opt-in: starts its own Redis servers and two more server processes.
  { key: 'scale', number: 7, module: './scenarios/scale', optIn: true },
];

function parseArgs(argv) {
  const args = { quick: false, only: null };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg.startsWith('--only=')) args.only = arg.slice('--only='.length).split(',').filter(Boolean);
    else if (arg === '--help' || arg === '-h') args.help = true;
    else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  if (args.only) for (const key of args.only) if (!SCENARIOS.some((s) => s.key === key)) throw new Error(`unknown scenario ${key}`);
  return args;
}

const started = Date.now();
function log(message) {
  console.log(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}`);
}

/** The soft open-files limit of this process (children inherit it). */
function fdLimit() {
  try {
    const match = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return match && match[1] !== 'unlimited' ? Number(match[1]) : 1_048_576;
  } catch {
    return 1024;
  }
}

function newestMtime(dir, ext) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full, ext));
    else if (entry.name.endsWith(ext)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function checkBuild() {
  const main = path.join(ROOT, 'dist', 'src', 'main.js');
  if (!fs.existsSync(main)) throw new Error('dist/src/main.js is missing: run `npm run build` first');
  if (newestMtime(path.join(ROOT, 'src'), '.ts') > newestMtime(path.join(ROOT, 'dist', 'src'), '.js')) {
    log('warning: src/ has changes newer than dist/; the bench measures dist/ (run `npm run build`)');
  }
  return main;
}

async function redisVersion(url) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
}

/** Deletes this run's Redis keys (the server's caches, presence, rate limits). */
async function cleanRedis(url, prefix) {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log('usage: npm run bench [-- --quick] [-- --only=connections,subscribe,fanout,sends,history,search,request,scale]');
    return 0;
  }
  const mode = args.quick ? 'quick' : 'full';
  const params = modes[mode];
  const selected = SCENARIOS.filter((s) => (args.only ? args.only.includes(s.key) : !s.optIn));
  const mainScript = checkBuild();

  const baseUrl = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.BENCH_REDIS_URL || process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  for (const url of [baseUrl, redisUrl]) {
    const host = new URL(url).hostname;
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error(`the bench runs on loopback only; got ${host}`);
  }
  const dbName = `chat_bench_${process.pid}`;
  const redisPrefix = `chat_bench_${process.pid}_${randomBytes(3).toString('hex')}:`;
  const limit = fdLimit();

  // Hard bound on the whole run: whatever hangs, the children die and the database goes.
  const watchdog = setTimeout(() => {
    console.error(`[bench] watchdog: the ${mode} run took too long; stopping`);
    void abort(2);
  }, args.quick ? 210_000 : 45 * 60_000);
  watchdog.unref();

  const result = {
    startedAt: new Date().toISOString(),
    mode,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      node: process.version,
      postgres: null,
      redis: null,
      openFilesLimit: limit,
    },
    params,
    scenarios: {},
    errors: [],
  };

  let dbClient = null;
  try {
    log(`mode ${mode}; database ${dbName}; Redis prefix ${redisPrefix}; open-files limit ${limit}`);
    result.machine.redis = await redisVersion(redisUrl);
    await db.dropStaleDatabases(baseUrl);
    const databaseUrl = await db.createDatabase(baseUrl, dbName);
    cleanups.push(() => db.dropDatabase(baseUrl, dbName));
    cleanups.push(() => cleanRedis(redisUrl, redisPrefix));

    const serverEnv = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      LOG_LEVEL: 'warn',
      // Relaxed for load: one user may hold many sockets; a short stall must not drop them.
      WS_MAX_CONNECTIONS_PER_USER: '10000',
      // Every generator socket comes from 127.0.0.1: the per-address and anonymous caps would cut them.
      WS_MAX_CONNECTIONS_PER_ADDRESS: '1000000',
      WS_MAX_ANONYMOUS_CONNECTIONS: '1000000',
      WS_INIT_TIMEOUT_MS: '30000',
      WS_MAX_BUFFERED_BYTES: String(16 * 1024 * 1024),
      // The per-user action limits stay in the path (counted in Redis, a few hits ahead for a user who keeps acting: RateLimiter.take) but never refuse.
      RATE_LIMIT_SEND_MESSAGE: '999999999/1',
      RATE_LIMIT_DIRECT_CHANNEL: '999999999/1',
      RATE_LIMIT_EDIT_MESSAGE: '999999999/1',
      RATE_LIMIT_VOTE: '999999999/1',
      RATE_LIMIT_SET_TYPING: '999999999/1',
      RATE_LIMIT_CREATE_CHANNEL: '999999999/1',
      RATE_LIMIT_SIGNUP_PER_IP: '999999999/1',
      // BENCH_OTEL_EXPORTER_OTLP_ENDPOINT: measure with tracing on (spans exported to that collector).
      ...(process.env.BENCH_OTEL_EXPORTER_OTLP_ENDPOINT ? { OTEL_EXPORTER_OTLP_ENDPOINT: process.env.BENCH_OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
    };
    // BENCH_SERVER_NODE_ARGS: extra node flags for the server under test (e.g. --cpu-prof for profiling).
    const serverNodeArgs = (process.env.BENCH_SERVER_NODE_ARGS || '').split(/\s+/).filter(Boolean);
    const startProcesses = async () => {
      const started = await Promise.all([
        procs.startServer({ name: 'chat-api', script: mainScript, env: serverEnv, timeoutMs: 60_000, nodeArgs: serverNodeArgs }),
        procs.startServer({ name: 'raw-ws', script: path.join(__dirname, 'baseline', 'raw-ws-server.js'), env: {}, readyPath: '/readyz' }),
      ]);
      started[0].child.on('exit', (code, signal) => {
        if (!stopping && !restarting) log(`chat-api exited unexpectedly (${code ?? signal}):\n${started[0].output()}`);
      });
      return started;
    };
    let restarting = false;
    log('starting chat-api (migrates the bench database) and the raw ws baseline');
    let [server, raw] = await startProcesses();

    dbClient = new Client({ connectionString: databaseUrl });
    await dbClient.connect();
    result.machine.postgres = await db.serverVersion(dbClient);

    let http = createClient(server.url);
    const ownerName = `bench_owner_${process.pid}`;
    const signup = await http.request(docs.SIGNUP, {
      input: { email: `${ownerName}@bench.test`, username: ownerName, password: `bench password ${randomBytes(8).toString('hex')}`, displayName: 'Bench owner' },
    });
    const owner = { id: signup.signup.user.id, token: signup.signup.token };
    const { rows } = await dbClient.query('select password_hash from users where id = $1', [owner.id]);
    const needed = Math.max(...selected.map((s) => (s.key === 'connections' ? Math.min(params.connections.sockets, limit - 256) : s.key === 'fanout' || s.key === 'scale' ? params.fanout.subscribers : s.key === 'reactions' ? params.reactions.subscribers : 64)));
    log(`seeding ${needed} users with sessions`);
    const users = await db.seedUsers(dbClient, needed, { prefix: `bu${process.pid}_`, passwordHash: rows[0].password_hash });

    const ctx = {
      quick: args.quick,
      params,
      log,
      fdLimit: limit,
      get server() {
        return server;
      },
      get raw() {
        return raw;
      },
      db: dbClient,
      databaseUrl,
      // For scenarios that start servers of their own (scale).
      serverEnv,
      mainScript,
      get http() {
        return http;
      },
      owner,
      users,
      async createChannel(name) {
        const data = await http.request(docs.CREATE_CHANNEL, { input: { name: `${name}-${process.pid}`, kind: 'PUBLIC' } }, owner.token);
        return data.createChannel;
      },
      addMembers: (channelId, userIds) => db.addMembers(dbClient, channelId, userIds),
    };

    for (const scenario of selected) {
      const scenarioStart = Date.now();
      try {
        if (server.child.exitCode !== null) throw new Error('chat-api is not running');
        const outcome = await require(scenario.module).run(ctx);
        result.scenarios[scenario.key] = { number: scenario.number, seconds: Number(((Date.now() - scenarioStart) / 1000).toFixed(1)), ...outcome };
      } catch (error) {
        log(`scenario ${scenario.key} failed: ${error.stack || error}`);
        result.errors.push({ scenario: scenario.key, error: String(error.message || error) });
      }
      if (scenario.key === 'connections' && scenario !== selected[selected.length - 1]) {
        // Thousands of sockets leave a large heap behind: the other scenarios get fresh processes.
        log('restarting chat-api and the raw ws baseline');
        restarting = true;
        http.close();
        await Promise.all([procs.stop(server.child), procs.stop(raw.child)]);
        [server, raw] = await startProcesses();
        http = createClient(server.url);
        restarting = false;
      }
    }
    http.close();
    // Warnings and errors the server logged (LOG_LEVEL=warn), for diagnosing odd figures.
    result.serverLogTail = server.output().split('\n').filter(Boolean).slice(-20);
  } catch (error) {
    log(`bench failed: ${error.stack || error}`);
    result.errors.push({ scenario: null, error: String(error.message || error) });
  } finally {
    stopping = true;
    await dbClient?.end().catch(() => undefined);
    await procs.stopAll();
    await runCleanups();
  }

  result.finishedAt = new Date().toISOString();
  result.seconds = Number(((Date.now() - started) / 1000).toFixed(1));
  const ordered = Object.values(result.scenarios).sort((a, b) => a.number - b.number);
  console.log('');
  console.log(`chat-api benchmarks (${mode}), ${result.startedAt}: ${result.machine.cpus} cores, ${result.machine.memoryGiB} GiB, Node ${result.machine.node}, PostgreSQL ${result.machine.postgres}, Redis ${result.machine.redis}`);
  console.log('ratio = chat-api / baseline; targets are goals of issue 8, for the report only.');
  for (const scenario of ordered) console.log(`\n${table(scenario)}`);
  if (result.errors.length) console.log(`\nerrors:\n${result.errors.map((e) => `  ${e.scenario ?? 'setup'}: ${e.error}`).join('\n')}`);

  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${result.startedAt.replace(/[:.]/g, '-')}${args.quick ? '-quick' : ''}.json`);
  const json = `${JSON.stringify(result, null, 2)}\n`;
  fs.writeFileSync(file, json);
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), json);
  console.log(`\nresults: ${path.relative(process.cwd(), file)} (and latest.json beside it), ${result.seconds} s`);
  return result.errors.length === 0 ? 0 : 1;
}

let stopping = false;
/** Undo steps (drop the database, delete the Redis keys), run once on every way out. */
const cleanups = [];
async function runCleanups() {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop();
    await cleanup().catch((error) => log(`cleanup: ${error.message}`));
  }
}

/** A hard stop (signal, watchdog): kill the children, clean up within a few seconds, exit. */
async function abort(code) {
  stopping = true;
  procs.killAllNow();
  setTimeout(() => process.exit(code), 10_000).unref();
  await runCleanups();
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`[bench] ${signal}: stopping`);
    void abort(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error.stack || error);
    procs.killAllNow();
    process.exit(1);
  },
);
