#!/usr/bin/env node
'use strict';
// node bench/executor-cost.js [--runs=3000]
//
// The executor question of issue 20, settled per document: the CPU time of executing the
// same operation on graphql-js (`execute`) and on graphql-jit (QueryExecutor, compiled),
// in-process against the real schema and resolvers (dist/), in alternating rounds. Documents:
// `{ __typename }`, `{ me { id username } }` and a 50-message history page
// (messages(last: 50) with authors, as the bench's readers send it). Needs the local
// PostgreSQL and Redis (as the bench does); creates and drops a database of its own.
const { randomBytes } = require('node:crypto');
const { execute, parse } = require('graphql');
const db = require('./lib/db');

const RUNS = Number((process.argv.find((a) => a.startsWith('--runs=')) || '').split('=')[1] || 3000);
const baseUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

const HISTORY =
  'query History($channelId: ID!, $last: Int, $before: String) { messages(channelId: $channelId, last: $last, before: $before) { edges { cursor node { id body createdAt author { id username displayName } } } pageInfo { hasPreviousPage startCursor } } }';

function cpuUs() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function main() {
  const { createApp } = require('../dist/src/app');
  const { loadConfig } = require('../dist/src/config');
  const { buildAppSchema } = require('../dist/src/schema');
  const { QueryExecutor } = require('../dist/src/shared/jit');
  const { createRequestContext } = require('../dist/src/shared/context');
  const name = `chat_exec_${process.pid}`;
  const databaseUrl = await db.createDatabase(baseUrl, name);
  const config = loadConfig({ NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `${name}:`, LOG_LEVEL: 'warn', RATE_LIMIT_SEND_MESSAGE: '999999999/1' });
  const app = await createApp(config);
  try {
    const { url } = await app.start();
    const post = async (query, variables, token) => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query, variables }) });
      const json = await response.json();
      if (json.errors) throw new Error(JSON.stringify(json.errors));
      return json.data;
    };
    const signup = await post('mutation($input: SignupInput!) { signup(input: $input) { token user { id } } }', { input: { email: `exec${process.pid}@bench.test`, username: `exec${process.pid}`, password: `exec password ${randomBytes(6).toString('hex')}` } });
    const token = signup.signup.token;
    const channel = (await post('mutation($input: CreateChannelInput!) { createChannel(input: $input) { id } }', { input: { name: `exec-${process.pid}`, kind: 'PUBLIC' } }, token)).createChannel;
    for (let i = 0; i < 60; i += 1) await post('mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { channelId: channel.id, body: `message ${i} of the executor benchmark, a line of ordinary length` } }, token);

    const schema = await buildAppSchema(app.resolvers);
    const jit = new QueryExecutor(schema);
    const viewer = await app.services.sessions.authenticate(token);
    const context = () => createRequestContext({ requestId: null, transport: 'http', viewer, ip: '127.0.0.1', userAgent: null });
    const documents = [
      { name: '{ __typename }', document: parse('{ __typename }'), variables: {} },
      { name: '{ me { id username } }', document: parse('query Me { me { id username } }'), variables: {} },
      { name: 'messages(last: 50) with authors', document: parse(HISTORY), variables: { channelId: channel.id, last: 50 } },
    ];
    const executors = {
      'graphql-js': (d) => execute({ schema, document: d.document, contextValue: context(), variableValues: d.variables }),
      'graphql-jit': (d) => jit.execute(d.document, undefined, undefined, context(), d.variables),
    };
    const rows = [];
    for (const d of documents) {
      const totals = { 'graphql-js': { us: 0, runs: 0 }, 'graphql-jit': { us: 0, runs: 0 } };
      for (const [, run] of Object.entries(executors)) for (let i = 0; i < 50; i += 1) await run(d); // warm up (and compile)
      const check = await executors['graphql-jit'](d);
      if (check.errors) throw new Error(`${d.name}: ${JSON.stringify(check.errors)}`);
      for (let round = 0; round < 4; round += 1) {
        for (const [label, run] of Object.entries(executors)) {
          const runs = Math.max(50, Math.round(RUNS / (d.name.startsWith('messages') ? 10 : 1)));
          const t0 = cpuUs();
          // 8 at a time, as the bench's readers (SQL batching and waits alike for both).
          for (let i = 0; i < runs; i += 8) await Promise.all(Array.from({ length: 8 }, () => run(d)));
          totals[label].us += cpuUs() - t0;
          totals[label].runs += Math.ceil(runs / 8) * 8;
        }
      }
      const js = totals['graphql-js'].us / totals['graphql-js'].runs;
      const compiled = totals['graphql-jit'].us / totals['graphql-jit'].runs;
      rows.push({ document: d.name, jsUs: js, jitUs: compiled, ratio: compiled / js });
    }
    console.log('\nCPU per execution (this process: resolvers, SQL client, executor), alternating rounds');
    console.log('document                          graphql-js µs  graphql-jit µs  jit/js');
    for (const r of rows) console.log(`${r.document.padEnd(32)}  ${r.jsUs.toFixed(1).padStart(13)}  ${r.jitUs.toFixed(1).padStart(14)}  ${r.ratio.toFixed(2).padStart(6)}`);
  } finally {
    await app.stop();
    await db.dropDatabase(baseUrl, name);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
