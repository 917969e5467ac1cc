'use strict';
// 4. Connections: N idle authenticated sockets, each with one channelEvents subscription.
// Figure: server RSS growth per connection. Baseline: idle raw ws connections. Runs first,
// on freshly started processes, so earlier scenarios' garbage does not blur the RSS.
const { startGenerators, split, rssBytes } = require('../lib/procs');
const { sleep } = require('../lib/clock');
const { createClient } = require('../lib/http-gql');
const { figure, target } = require('../lib/report');
const { CHANNEL_EVENTS, SEND } = require('../lib/documents');

async function delivered(subs) {
  const counts = await subs.all('counts');
  return counts.reduce((sum, c) => sum + c.delivered, 0);
}

/** RSS after it stops moving much (or after a few reads): the median of the last three reads. */
async function settledRss(pid, settleMs) {
  await sleep(settleMs);
  const reads = [];
  for (let i = 0; i < 3; i += 1) {
    reads.push(rssBytes(pid));
    await sleep(300);
  }
  return reads.sort((a, b) => a - b)[1];
}

async function measure(ctx, system, p, count) {
  const rssBefore = await settledRss(system.pid, p.settleMs);
  const subs = startGenerators('ws-clients', p.generators);
  try {
    const tokenSlices = split(system.tokens.slice(0, count), p.generators);
    const started = Date.now();
    const results = await subs.all('connect', (i) => ({ url: system.wsUrl, tokens: tokenSlices[i], query: CHANNEL_EVENTS, variables: { channelId: system.channelId }, concurrency: p.connectConcurrency }), 600_000);
    const connected = results.reduce((sum, r) => sum + r.connected, 0);
    const connectMs = Date.now() - started;
    const errors = results.flatMap((r) => r.errors);
    // Every socket's subscription must be live: one message has to reach them all.
    const sender = createClient(system.url);
    let reached = 0;
    for (let attempt = 0; attempt < 10 && reached < connected; attempt += 1) {
      const before = await delivered(subs);
      await sender.request(SEND, { input: { channelId: system.channelId, body: 'probe' } }, system.senderToken);
      const deadline = Date.now() + p.probeTimeoutMs;
      while (Date.now() < deadline && reached < connected) {
        await sleep(100);
        reached = (await delivered(subs)) - before;
      }
    }
    sender.close();
    const rssAfter = await settledRss(system.pid, p.settleMs);
    ctx.log(`  ${system.name}: ${connected} sockets subscribed in ${(connectMs / 1000).toFixed(1)} s, RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB`);
    return { requested: count, connected, subscribedConfirmed: reached >= connected, connectMs, errors, rssBefore, rssAfter, perConnection: connected > 0 ? (rssAfter - rssBefore) / connected : null };
  } finally {
    await subs.all('close').catch(() => undefined);
    await subs.stop();
  }
}

async function run(ctx) {
  const p = ctx.params.connections;
  // The server needs a file descriptor per socket plus its own (database pool, Redis, ...).
  const count = Math.min(p.sockets, ctx.fdLimit - 256);
  const channel = await ctx.createChannel('bench-connections');
  const users = ctx.users.slice(0, count);
  await ctx.addMembers(channel.id, users.map((u) => u.id));
  const tokens = users.map((u) => u.token);

  ctx.log(`connections: ${count} subscribed sockets, chat-api`);
  const project = await measure(ctx, { name: 'chat-api', pid: ctx.server.pid, url: ctx.server.url, wsUrl: ctx.server.wsUrl, channelId: channel.id, senderToken: ctx.owner.token, tokens }, p, count);
  ctx.log(`connections: ${count} idle sockets, raw ws`);
  const baseline = await measure(ctx, { name: 'raw ws', pid: ctx.raw.pid, url: ctx.raw.url, wsUrl: ctx.raw.wsUrl, channelId: channel.id, senderToken: null, tokens }, p, count);

  const perConnection = figure({ key: 'rssPerConnectionKiB', label: 'RSS per connection', unit: 'KiB', project: project.perConnection / 1024, baseline: baseline.perConnection / 1024, better: 'lower' });
  perConnection.target = target('ratio <= 2', perConnection.ratio !== null && perConnection.ratio <= 2);
  const sockets = figure({ key: 'connectedSockets', label: 'subscribed sockets in one process', project: project.connected, baseline: baseline.connected });
  // Only a run that tries the full number can meet or miss it (quick mode opens few; a low
  // open-files limit caps the count below what the server is asked to hold).
  sockets.target = target(`>= ${p.targetSockets.toLocaleString('en-US')}`, count < p.targetSockets ? null : project.connected >= p.targetSockets && project.subscribedConfirmed);
  const notes = [];
  if (p.sockets < p.targetSockets) notes.push(`quick mode: ${p.sockets} sockets, so the ${p.targetSockets.toLocaleString('en-US')}-socket target is not measured (n/a).`);
  if (count < p.sockets) notes.push(`${p.sockets.toLocaleString('en-US')} sockets requested, ${count.toLocaleString('en-US')} opened: the open-files limit here is ${ctx.fdLimit} (ulimit -n).`);
  if (!project.subscribedConfirmed) notes.push('not every chat-api socket received the probe message: some subscriptions were not live.');
  if (project.errors.length || baseline.errors.length) notes.push(`connect errors: ${[...project.errors, ...baseline.errors].slice(0, 3).join('; ')}`);
  return {
    title: `4. Connections: idle authenticated sockets with one channelEvents subscription each`,
    baselineName: 'raw ws',
    figures: [
      perConnection,
      sockets,
      figure({ key: 'rssTotalMiB', label: 'RSS with all sockets open', unit: 'MiB', project: project.rssAfter / 2 ** 20, baseline: baseline.rssAfter / 2 ** 20, better: 'lower' }),
      figure({ key: 'connectSeconds', label: 'time to open and subscribe all', unit: 's', project: project.connectMs / 1000, baseline: baseline.connectMs / 1000, better: 'lower' }),
    ],
    notes,
    details: { project, baseline },
  };
}

module.exports = { run };
