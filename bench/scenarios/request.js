'use strict';
// 8. The request path: closed-loop clients POSTing `{ __typename }` to chat-api and to a
// minimal Apollo Server 5 called from node:http (baseline/apollo-minimal.js, same Apollo
// options and plugins), alternating, then an authenticated `{ me { id username } }`.
// Figures: requests/s and server CPU per request (/proc, user + system).
const path = require('node:path');
const { cpuMs, startGenerators, startServer, stop } = require('../lib/procs');
const { Histogram } = require('../lib/histogram');
const { figure, target } = require('../lib/report');

async function load(ctx, gens, { url, pid, op, tokens, durationMs }) {
  const cpu0 = cpuMs(pid);
  const parts = await gens.all('run', () => ({ url, tokens, op, durationMs }));
  const cpu1 = cpuMs(pid);
  const ok = parts.reduce((sum, part) => sum + part.ok, 0);
  const elapsedMs = Math.max(...parts.map((part) => part.elapsedMs));
  const hist = Histogram.mergeAll(parts.map((part) => part.hist));
  return {
    ok,
    perSec: (ok / elapsedMs) * 1000,
    p99: hist.percentile(0.99),
    cpuUsPerRequest: ok > 0 ? ((cpu1 - cpu0) * 1000) / ok : null,
    failed: parts.reduce((sum, part) => sum + part.failed, 0),
    firstError: parts.map((part) => part.firstError).find(Boolean) ?? null,
  };
}

/** Sums of alternating rounds (the two servers see the same background load). */
function combine(rounds) {
  const ok = rounds.reduce((sum, r) => sum + r.ok, 0);
  const weighted = (key) => rounds.reduce((sum, r) => sum + (r[key] ?? 0) * r.ok, 0) / Math.max(ok, 1);
  return {
    ok,
    perSec: rounds.reduce((sum, r) => sum + r.perSec, 0) / rounds.length,
    p99: Math.max(...rounds.map((r) => r.p99 ?? 0)),
    cpuUsPerRequest: weighted('cpuUsPerRequest'),
    failed: rounds.reduce((sum, r) => sum + r.failed, 0),
    firstError: rounds.map((r) => r.firstError).find(Boolean) ?? null,
  };
}

async function run(ctx) {
  const p = ctx.params.request;
  const baseline = await startServer({ name: 'apollo-minimal', script: path.join(__dirname, '..', 'baseline', 'apollo-minimal.js'), env: { NODE_ENV: 'production' } });
  const gens = startGenerators('http-load', 1);
  const anonymous = Array.from({ length: p.concurrency }, () => null);
  const tokens = ctx.users.slice(0, p.concurrency).map((u) => u.token);
  const ours = [];
  const floor = [];
  const me = [];
  try {
    const server = { url: ctx.server.url, pid: ctx.server.pid };
    const apollo = { url: baseline.url, pid: baseline.pid };
    for (const target of [server, apollo]) await load(ctx, gens, { ...target, op: 'typename', tokens: anonymous, durationMs: p.warmupMs });
    await load(ctx, gens, { ...server, op: 'me', tokens, durationMs: p.warmupMs });
    for (let round = 0; round < p.rounds; round += 1) {
      ctx.log(`request: round ${round + 1}/${p.rounds}: { __typename } chat-api, minimal Apollo; { me } chat-api`);
      ours.push(await load(ctx, gens, { ...server, op: 'typename', tokens: anonymous, durationMs: p.durationMs }));
      floor.push(await load(ctx, gens, { ...apollo, op: 'typename', tokens: anonymous, durationMs: p.durationMs }));
      me.push(await load(ctx, gens, { ...server, op: 'me', tokens, durationMs: p.durationMs }));
    }
  } finally {
    await gens.stop();
    await stop(baseline.child);
  }
  const project = combine(ours);
  const apollo = combine(floor);
  const authenticated = combine(me);
  const typename = figure({ key: 'typenamePerSec', label: '{ __typename } requests/s', unit: 'req/s', project: project.perSec, baseline: apollo.perSec });
  typename.target = target('ratio >= 0.80', typename.ratio >= 0.8);
  const notes = [`${p.concurrency} closed-loop keep-alive clients in one generator process, ${p.rounds} alternating rounds of ${p.durationMs / 1000} s; CPU from /proc of each server process.`];
  const failed = project.failed + apollo.failed + authenticated.failed;
  if (failed) notes.push(`failed requests: ${failed} (${[project, apollo, authenticated].map((r) => r.firstError).find(Boolean)})`);
  return {
    title: '10. Request path: GraphQL over HTTP against a minimal Apollo Server 5 on node:http',
    baselineName: 'minimal Apollo',
    figures: [
      typename,
      figure({ key: 'typenameCpuUs', label: '{ __typename } server CPU per request', unit: 'µs', project: project.cpuUsPerRequest, baseline: apollo.cpuUsPerRequest, better: 'lower' }),
      figure({ key: 'typenameP99Ms', label: '{ __typename } p99', unit: 'ms', project: project.p99, baseline: apollo.p99, better: 'lower' }),
      figure({ key: 'mePerSec', label: '{ me { id username } } (signed in) requests/s', unit: 'req/s', project: authenticated.perSec, baseline: apollo.perSec, note: 'baseline: the minimal server\'s { __typename }' }),
      figure({ key: 'meCpuUs', label: '{ me } server CPU per request', unit: 'µs', project: authenticated.cpuUsPerRequest, baseline: apollo.cpuUsPerRequest, better: 'lower' }),
    ],
    notes,
    details: { project, baseline: apollo, authenticated, rounds: { ours, floor, me } },
  };
}

module.exports = { run };
