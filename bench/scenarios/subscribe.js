'use strict';
// 5. Subscribe rate: new channelEvents subscriptions per second on open sockets. A
// subscription counts once its first event (one message replayed from `after`) arrives.
// Baseline: the same server with every document made unique by a comment, so the graphql-ws
// parse/validate cache never hits (the same as GRAPHQL_DOCUMENT_CACHE=false, without a restart).
const { startGenerators, split } = require('../lib/procs');
const { Histogram } = require('../lib/histogram');
const { figure, target } = require('../lib/report');
const { CHANNEL_EVENTS, LATEST, SEND } = require('../lib/documents');

/** Totals over generator parts; `rounds` sequential rounds, each as long as its slowest part. */
function summarize(parts, rounds) {
  const hist = Histogram.mergeAll(parts.map((part) => part.hist));
  const perRound = parts.length / rounds;
  let elapsedMs = 0;
  for (let r = 0; r < rounds; r += 1) elapsedMs += Math.max(...parts.slice(r * perRound, (r + 1) * perRound).map((part) => part.elapsedMs));
  const ok = parts.reduce((sum, part) => sum + part.ok, 0);
  return {
    subscriptions: ok,
    perSec: (ok / elapsedMs) * 1000,
    p50: hist.percentile(0.5),
    p99: hist.percentile(0.99),
    failed: parts.reduce((sum, part) => sum + part.failed, 0),
    firstError: parts.map((part) => part.firstError).find(Boolean) ?? null,
  };
}

async function run(ctx) {
  const p = ctx.params.subscribe;
  const channel = await ctx.createChannel('bench-subscribe');
  for (const body of ['first', 'second']) await ctx.http.request(SEND, { input: { channelId: channel.id, body } }, ctx.owner.token);
  const latest = await ctx.http.request(LATEST, { channelId: channel.id, last: 2 }, ctx.owner.token);
  const after = latest.messages.edges[0].cursor; // one message behind the newest
  const users = ctx.users.slice(0, p.connections);
  await ctx.addMembers(channel.id, users.map((u) => u.id));
  const tokenSlices = split(users.map((u) => u.token), p.generators);

  const churn = startGenerators('subscribe-churn', p.generators);
  const results = {};
  try {
    const connected = await churn.all('connect', (i) => ({ url: ctx.server.wsUrl, tokens: tokenSlices[i] }));
    const open = connected.reduce((sum, c) => sum + c.connected, 0);
    if (open === 0) throw new Error(`no socket connected: ${connected.flatMap((c) => c.errors).join('; ')}`);
    const load = (unique, durationMs) => churn.all('run', { query: CHANNEL_EVENTS, variables: { channelId: channel.id, after }, unique, durationMs });
    // Alternating rounds, so a drift in the machine's load does not favour either side.
    const parts = { cached: [], uncached: [] };
    for (let round = 0; round < p.rounds; round += 1) {
      for (const [name, unique] of [['cached', false], ['uncached', true]]) {
        ctx.log(`subscribe: ${name} documents${p.rounds > 1 ? `, round ${round + 1} of ${p.rounds}` : ''}`);
        await load(unique, p.warmupMs);
        parts[name].push(...(await load(unique, p.durationMs / p.rounds)));
      }
    }
    for (const name of ['cached', 'uncached']) results[name] = summarize(parts[name], p.rounds);
  } finally {
    await churn.all('close').catch(() => undefined);
    await churn.stop();
  }

  const rate = figure({ key: 'subscriptionsPerSec', label: 'new subscriptions/s', unit: 'subs/s', project: results.cached.perSec, baseline: results.uncached.perSec });
  rate.target = target('ratio >= 5', rate.ratio >= 5);
  const notes = [
    `${p.connections} sockets, each subscribing, waiting for the first (replayed) event, completing, and subscribing again. The baseline is the same server with a unique comment in every document, so its parse/validate cache never hits (as with GRAPHQL_DOCUMENT_CACHE=false): every subscribe parses and validates.`,
  ];
  const failed = results.cached.failed + results.uncached.failed;
  if (failed) notes.push(`failed subscriptions: ${failed} (${results.cached.firstError ?? results.uncached.firstError})`);
  return {
    title: '5. Subscribe rate: channelEvents subscriptions on open sockets',
    baselineName: 'uncached',
    figures: [rate, figure({ key: 'subscribeP99Ms', label: 'subscribe-to-first-event p99', unit: 'ms', project: results.cached.p99, baseline: results.uncached.p99, better: 'lower' })],
    notes,
    details: results,
  };
}

module.exports = { run };
