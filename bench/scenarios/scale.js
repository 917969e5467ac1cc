'use strict';
// 6. Scale-out (opt-in: `npm run bench -- --only=scale`): the fan-out of scenario 1 with its
// subscribers on one server process, then spread over two (one sender, on the first), each
// with a single Redis and with a three-master Redis Cluster (sharded pub/sub) of its own.
// Figures: deliveries/s at saturation and p99 at half load, two instances against one in the
// same run, and the CPU each delivery costs the servers and Redis. On a machine with few cores
// both instances, Redis and the load generators share them: the ratio and the CPU per
// delivery are what this measures, not what two machines would do.
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Redis } = require('ioredis');
const procs = require('../lib/procs');
const { figure } = require('../lib/report');
const { measure } = require('./fanout');

const ROOT = path.join(__dirname, '..', '..');
// Compiled from scripts/lib/processes.ts (the tests start their Redis Cluster with it too).
const { PrivateRedisCluster, haveRedisBinaries, waitFor, exited } = require(path.join(ROOT, 'dist', 'scripts', 'lib', 'processes.js'));

async function ping(url) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined); // not up yet: connect() rejects, and waitFor tries again
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } finally {
    redis.disconnect();
  }
}

/** A redis-server of the run's own (so its CPU time is this run's alone). */
async function startSingleRedis() {
  const port = await procs.freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(() => ping(url), 'redis-server');
  return {
    url,
    pids: [child.pid],
    async stop() {
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}

async function startClusterRedis() {
  const cluster = await PrivateRedisCluster.start();
  return { url: cluster.url, pids: cluster.pids, stop: () => cluster.destroy() };
}

const BACKENDS = [
  { key: 'single', label: 'one Redis', start: startSingleRedis },
  { key: 'cluster', label: 'Redis Cluster (3 masters)', start: startClusterRedis },
];

async function run(ctx) {
  if (!haveRedisBinaries()) throw new Error('the scale scenario starts its own redis-server and Redis Cluster: install redis-server and redis-cli');
  const p = ctx.params.fanout;
  const channel = await ctx.createChannel('bench-scale');
  const subscribers = ctx.users.slice(0, p.subscribers);
  await ctx.addMembers(channel.id, subscribers.map((u) => u.id));
  const tokens = subscribers.map((u) => u.token);

  const figures = [];
  const details = {};
  const notes = [
    `${p.subscribers.toLocaleString('en-US')} subscribers on one channel, one sender (HTTP, on instance A). "one instance": every subscriber on A; "two instances": half on A, half on B, events reaching B through Redis. Both columns of a row come from the same run.`,
    'CPU per delivery: CPU time of the server processes (A, or A + B) and of the redis-server processes over the half-load step, divided by the events delivered in it.',
  ];
  for (const backend of BACKENDS) {
    ctx.log(`scale: starting ${backend.label} and two chat-api instances`);
    const redis = await backend.start();
    // A run that is aborted (signal, watchdog) exits without the finally below: no Redis left behind.
    const killRedis = () => redis.pids.forEach((pid) => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    process.once('exit', killRedis);
    const env = { ...ctx.serverEnv, REDIS_URL: redis.url };
    let servers = [];
    try {
      servers = await Promise.all(['A', 'B'].map((name) => procs.startServer({ name: `chat-api ${name} (${backend.key})`, script: ctx.mainScript, env, timeoutMs: 60_000 })));
      const [a, b] = servers;
      const base = { url: a.url, channelId: channel.id, senderToken: ctx.owner.token, subscriberTokens: tokens };
      ctx.log(`scale (${backend.label}): ${p.subscribers} subscribers on one instance`);
      const one = await measure(ctx, { ...base, name: `one instance, ${backend.key}`, wsUrl: a.wsUrl, cpu: { servers: [a.pid], redis: redis.pids } }, p);
      ctx.log(`scale (${backend.label}): ${p.subscribers} subscribers over two instances`);
      const two = await measure(ctx, { ...base, name: `two instances, ${backend.key}`, wsUrls: [a.wsUrl, b.wsUrl], cpu: { servers: [a.pid, b.pid], redis: redis.pids } }, p);
      details[backend.key] = { one, two };
      const label = (text) => `${backend.label}: ${text}`;
      figures.push(
        figure({ key: `${backend.key}DeliveredPerSec`, label: label('delivered events/s at saturation'), unit: 'events/s', project: two.deliveredPerSec, baseline: one.deliveredPerSec }),
        figure({ key: `${backend.key}HalfLoadP99Ms`, label: label('p99 latency at half load'), unit: 'ms', project: two.halfP99, baseline: one.halfP99, better: 'lower' }),
        figure({ key: `${backend.key}ServerCpuUs`, label: label('server CPU per delivery, half load'), unit: 'µs', project: two.half.cpuUsPerDelivery.servers, baseline: one.half.cpuUsPerDelivery.servers, better: 'lower' }),
        figure({ key: `${backend.key}RedisCpuUs`, label: label('Redis CPU per delivery, half load'), unit: 'µs', project: two.half.cpuUsPerDelivery.redis, baseline: one.half.cpuUsPerDelivery.redis, better: 'lower' }),
      );
      for (const [name, r] of [['one instance', one], ['two instances', two]]) {
        if (!r.saturated) notes.push(`${backend.label}, ${name}: not saturated within the step limit; its throughput is a lower bound.`);
      }
    } finally {
      await Promise.all(servers.map((server) => procs.stop(server.child)));
      await redis.stop();
      process.off('exit', killRedis);
    }
  }
  return {
    title: `6. Scale-out: ${p.subscribers.toLocaleString('en-US')} subscribers over two instances (chat-api column) vs one (baseline column)`,
    baselineName: 'one instance',
    figures,
    notes,
    details,
  };
}

module.exports = { run };
