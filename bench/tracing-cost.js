#!/usr/bin/env node
'use strict';
// node bench/tracing-cost.js [--requests=2000] [--rounds=2]
//
// What tracing costs the server: the same fixed HTTP workload (sendMessage and
// messages(last: 50), 8 at a time) against dist/src/main.js with tracing off and on
// (OTEL_EXPORTER_OTLP_ENDPOINT pointing at a local sink that accepts OTLP exports), in
// alternating rounds. The figure is the server's CPU time per request (user + system, every
// thread's, lib/procs.js cpuMs), which a loaded machine disturbs far less than throughput; wall-clock
// throughput is printed too. Needs the local PostgreSQL and Redis (as the bench does).
const http = require('node:http');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const procs = require('./lib/procs');
const db = require('./lib/db');
const { createClient } = require('./lib/http-gql');

const arg = (name, fallback) => Number((process.argv.find((a) => a.startsWith(`--${name}=`)) || '').split('=')[1] || fallback);
const REQUESTS = arg('requests', 2000);
const ROUNDS = arg('rounds', 2);
const CONCURRENCY = 8;
const baseUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const cpuSeconds = (pid) => procs.cpuMs(pid) / 1000;

async function sink() {
  let exports = 0;
  const server = http.createServer((req, res) => {
    exports += 1;
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, exports: () => exports, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function round(tracing, collector, databaseUrl) {
  const prefix = `tracing_cost_${randomBytes(3).toString('hex')}:`;
  const env = { NODE_ENV: 'production', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'warn', RATE_LIMIT_SEND_MESSAGE: '999999999/1', RATE_LIMIT_SIGNUP_PER_IP: '999999999/1', RATE_LIMIT_CREATE_CHANNEL: '999999999/1' };
  if (tracing) env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url;
  const server = await procs.startServer({ name: `chat-api (tracing ${tracing ? 'on' : 'off'})`, script: path.join(__dirname, '..', 'dist', 'src', 'main.js'), env, timeoutMs: 60_000 });
  try {
    const client = createClient(server.url);
    const name = `cost${randomBytes(4).toString('hex')}`;
    const signup = await client.request('mutation($i: SignupInput!) { signup(input: $i) { token } }', { i: { username: name, email: `${name}@example.test`, password: 'correct horse battery staple' } });
    const token = signup.signup.token;
    const channel = (await client.request('mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }', { i: { name } }, token)).createChannel.id;
    const send = JSON.stringify({ query: 'mutation Send($i: SendMessageInput!) { sendMessage(input: $i) { id } }', variables: { i: { channelId: channel, body: 'x' } } });
    const read = JSON.stringify({ query: 'query History($c: ID!) { messages(channelId: $c, last: 50) { edges { node { id body } } } }', variables: { c: channel } });
    // Warm-up (jit compilation, connections), not measured.
    for (let i = 0; i < 200; i += 1) await client.post(i % 2 ? read : send, token);
    const cpuBefore = cpuSeconds(server.pid);
    const started = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          const i = next++;
          const { status } = await client.post(i % 2 ? read : send, token);
          if (status !== 200) throw new Error(`HTTP ${status}`);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = cpuSeconds(server.pid) - cpuBefore;
    client.close();
    return { tracing, cpuMsPerRequest: (cpu * 1000) / REQUESTS, requestsPerSecond: REQUESTS / seconds };
  } finally {
    await procs.stop(server.child);
  }
}

async function main() {
  const collector = await sink();
  const dbName = `chat_tracing_cost_${process.pid}`;
  const databaseUrl = await db.createDatabase(baseUrl, dbName);
  const results = [];
  try {
    for (let r = 0; r < ROUNDS; r += 1) {
      for (const tracing of r % 2 ? [true, false] : [false, true]) {
        const result = await round(tracing, collector, databaseUrl);
        results.push(result);
        console.log(`round ${r + 1}, tracing ${tracing ? 'on ' : 'off'}: ${result.cpuMsPerRequest.toFixed(3)} ms CPU/request, ${result.requestsPerSecond.toFixed(0)} requests/s`);
      }
    }
  } finally {
    await db.dropDatabase(baseUrl, dbName);
    await collector.close();
  }
  const mean = (on) => {
    const picked = results.filter((r) => r.tracing === on);
    return { cpu: picked.reduce((a, r) => a + r.cpuMsPerRequest, 0) / picked.length, rps: picked.reduce((a, r) => a + r.requestsPerSecond, 0) / picked.length };
  };
  const off = mean(false);
  const on = mean(true);
  console.log(`\n${REQUESTS} requests per round (half sendMessage, half messages(last: 50)), ${CONCURRENCY} at a time, ${ROUNDS} rounds each; OTLP exports received: ${collector.exports()}`);
  console.log(`tracing off: ${off.cpu.toFixed(3)} ms CPU/request, ${off.rps.toFixed(0)} requests/s`);
  console.log(`tracing on:  ${on.cpu.toFixed(3)} ms CPU/request, ${on.rps.toFixed(0)} requests/s`);
  console.log(`cost: +${(on.cpu - off.cpu).toFixed(3)} ms CPU/request (+${(((on.cpu - off.cpu) / off.cpu) * 100).toFixed(0)}%)`);
}

main().then(() => process.exit(0), (error) => {
  console.error(error);
  process.exit(1);
});
