'use strict';
// 1. Fan-out: one channel, many graphql-ws subscribers, one sender raising the rate until
// delivery falls behind. Figures: delivered events/s at saturation; p50/p99 send-to-delivery
// latency at half the saturating send rate. Baseline: the raw ws broadcast server.
const { cpuMs, startGenerator, startGenerators, split } = require('../lib/procs');
const { Histogram } = require('../lib/histogram');
const { now, sleep } = require('../lib/clock');
const { figure, target } = require('../lib/report');
const { CHANNEL_EVENTS } = require('../lib/documents');

async function totals(subs) {
  const counts = await subs.all('counts');
  return counts.reduce((sum, c) => ({ delivered: sum.delivered + c.delivered, errors: sum.errors + c.errors, completes: sum.completes + c.completes, closed: sum.closed + c.closed }), { delivered: 0, errors: 0, completes: 0, closed: 0 });
}

async function waitDelivered(subs, goal, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let current = await totals(subs);
  while (current.delivered < goal && Date.now() < deadline) {
    await sleep(50);
    current = await totals(subs);
  }
  return current;
}

async function collectLatency(subs) {
  const parts = await subs.all('collect');
  return Histogram.mergeAll(parts.map((part) => part.hist));
}

/** CPU ms used so far by each group of processes ({ servers: [pid], redis: [pid] }). */
function cpuOf(groups = {}) {
  return Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, pids.reduce((sum, pid) => sum + cpuMs(pid), 0)]));
}

/**
 * Measures one system (server or raw baseline). `system.wsUrls` spreads the subscribers over
 * several instances (generator i connects to wsUrls[i % n]); `system.cpu` names process groups
 * whose CPU time per delivery each step reports. With `search`, finds the saturating send rate;
 * then, after a warm-up at the first of `rates` (default: half the saturating rate), measures a
 * step at each of them (`atRates`; `half` is the first).
 */
async function measure(ctx, system, p, { search = true, rates = null } = {}) {
  const { log } = ctx;
  const subs = startGenerators('ws-clients', p.generators);
  const sender = startGenerator('sender');
  try {
    const tokenSlices = split(system.subscriberTokens, p.generators);
    const connected = await subs.all('connect', (i) => ({ url: system.wsUrls ? system.wsUrls[i % system.wsUrls.length] : system.wsUrl, tokens: tokenSlices[i], query: CHANNEL_EVENTS, variables: { channelId: system.channelId }, concurrency: 50 }), 300_000);
    const n = connected.reduce((sum, c) => sum + c.connected, 0);
    if (n === 0) throw new Error(`no subscriber connected: ${JSON.stringify(connected.flatMap((c) => c.errors))}`);
    await sender.call('init', { url: system.url, token: system.senderToken, channelId: system.channelId, maxInFlight: p.maxInFlight });

    // Barrier: a probe message must reach every subscriber (subscriptions are not acked).
    // The time it takes is the system's single-message fan-out time, which bounds how long
    // a step's last message may take to arrive in a step that keeps up.
    let fanoutMs = null;
    for (let attempt = 0; attempt < 5 && fanoutMs === null; attempt += 1) {
      const before = await totals(subs);
      const t0 = now();
      await sender.call('once');
      const after = await waitDelivered(subs, before.delivered + n, p.probeTimeoutMs);
      if (after.delivered - before.delivered >= n) fanoutMs = now() - t0;
      else await waitDelivered(subs, Infinity, 1000); // let stragglers of this probe arrive
    }
    if (fanoutMs === null) throw new Error(`probe messages did not reach all ${n} subscribers`);
    const graceMs = Math.max(p.graceMs, 3 * fanoutMs);
    await collectLatency(subs); // discard the probes' latencies

    const step = async (rate, minDurationMs) => {
      // Long enough for at least a few messages at low rates, bounded at high ones.
      const durationMs = Math.min(3 * minDurationMs, Math.max(minDurationMs, (5 / rate) * 1000));
      const c0 = await totals(subs);
      const cpu0 = cpuOf(system.cpu);
      const running = sender.call('run', { rate, durationMs }, durationMs + 60_000);
      const t0 = now();
      await sleep(durationMs);
      const c1 = await totals(subs);
      const windowMs = now() - t0;
      const sent = await running;
      if (sent.failed > 0 && sent.ok === 0) throw new Error(`every send failed: ${sent.firstError}`);
      const expected = sent.ok * (n - c0.closed);
      const c2 = await waitDelivered(subs, c0.delivered + expected, graceMs);
      const cpu2 = cpuOf(system.cpu);
      const hist = await collectLatency(subs);
      const latency = hist.summary();
      // Kept up: every send was issued on schedule and succeeded (the sender is open loop:
      // it skips a send when too many are in flight); no subscriber was dropped; when the
      // step ended, the deliveries still owed were at most two messages' worth or 10% of
      // the step (no growing backlog); and all but 1% arrived within the grace period after
      // it (a few single-message fan-out times). Latency is reported, not judged.
      const subscribed = n - c0.closed;
      const owedAtEnd = Math.min(sent.ok, Math.floor((rate * windowMs) / 1000)) * subscribed - (c1.delivered - c0.delivered);
      const keptUp =
        sent.ok > 0 &&
        sent.failed === 0 &&
        sent.skipped === 0 &&
        c2.closed === c0.closed &&
        owedAtEnd <= Math.max(2 * subscribed, 0.1 * expected) &&
        c2.delivered - c0.delivered >= 0.99 * expected;
      const result = {
        rate,
        achievedRate: sent.achievedRate,
        sent: sent.ok,
        failedSends: sent.failed,
        skippedSends: sent.skipped,
        deliveredPerSec: ((c1.delivered - c0.delivered) / windowMs) * 1000,
        deliveredRatio: expected > 0 ? (c2.delivered - c0.delivered) / expected : 0,
        owedAtEnd,
        p50: latency.p50,
        p99: latency.p99,
        sendP99: Histogram.from(sent.hist).percentile(0.99),
        keptUp,
        firstError: sent.firstError,
        // CPU µs per delivered event, per process group, over the step and its grace period.
        cpuUsPerDelivery: Object.fromEntries(Object.keys(cpu0).map((name) => [name, c2.delivered > c0.delivered ? ((cpu2[name] - cpu0[name]) * 1000) / (c2.delivered - c0.delivered) : null])),
      };
      log(`  ${system.name}: ${rate.toFixed(1)} msg/s -> ${Math.round(result.deliveredPerSec)} deliveries/s, p99 ${latency.p99?.toFixed(1)} ms, ${keptUp ? 'kept up' : 'fell behind'}`);
      // Let any backlog drain before the next step; what arrives meanwhile is this step's
      // (late) and must not count as the next step's latency.
      await waitDelivered(subs, c0.delivered + expected, Math.max(graceMs, p.drainMs));
      await sleep(100);
      await collectLatency(subs);
      return result;
    };

    const searched = search ? await searchSaturation(step, p, n) : null;
    const loads = rates ?? [searched.saturationRate / 2];
    const atRates = [];
    if (loads.length > 0) {
      // The search ends on steps at and past saturation, whose backlogs leave garbage to collect
      // and buffers to shrink: a warm-up at the first rate (not measured) lets that settle, as
      // every measured phase of the bench follows a warm-up of its own load.
      await step(loads[0], p.halfWarmupMs);
      for (const rate of loads) atRates.push(await step(rate, p.halfMs));
    }
    const half = atRates[0] ?? null;
    const closes = await totals(subs);
    return {
      subscribers: n,
      fanoutMs,
      graceMs,
      ...searched,
      halfRate: half?.rate ?? null,
      halfP50: half?.p50 ?? null,
      halfP99: half?.p99 ?? null,
      errors: closes.errors,
      closed: closes.closed,
      half,
      atRates,
    };
  } finally {
    await subs.all('close').catch(() => undefined);
    await subs.stop();
    await sender.stop();
  }
}

/**
 * Raises the rate by `factor` while delivery keeps up (backs off while it does not), then
 * bisects (geometric mean) between the fastest good and the slowest bad rate until they are
 * within `resolution` of each other or the step budget is spent.
 */
async function searchSaturation(step, p, n) {
  const steps = [];
  let good = null;
  let bad = null;
  let rate = p.startDeliveries / n;
  // The slowest step still sends a few messages (steps last at most 3 * stepMs).
  const minRate = 3 / ((3 * p.stepMs) / 1000);
  while (steps.length < p.maxSteps && rate >= minRate) {
    const result = await step(rate, p.stepMs);
    steps.push(result);
    if (result.keptUp) good = Math.max(good ?? 0, rate);
    else bad = Math.min(bad ?? Infinity, rate);
    if (good !== null && bad !== null && bad / good <= p.resolution) break;
    rate = bad === null ? rate * p.factor : good === null ? rate / p.factor : Math.sqrt(good * bad);
  }
  return {
    keptUpAtSomeRate: good !== null,
    deliveredPerSec: Math.max(...steps.map((s) => s.deliveredPerSec)),
    // Never kept up, even at the slowest rate tried: that rate counts as the saturating one.
    saturationRate: good ?? Math.max(minRate, Math.min(...steps.map((s) => s.rate))),
    saturated: bad !== null,
    steps,
  };
}

async function run(ctx) {
  const p = ctx.params.fanout;
  const channel = await ctx.createChannel('bench-fanout');
  const subscribers = ctx.users.slice(0, p.subscribers);
  await ctx.addMembers(channel.id, subscribers.map((u) => u.id));
  const tokens = subscribers.map((u) => u.token);

  // Alternating rounds (chat-api, raw, chat-api, raw, ...): the host's speed drifts over the
  // minutes a round takes (the raw server's own saturation moved by a fifth between runs), and
  // a single pair of rounds put all of a drift into the ratio. Each system's throughput is its
  // best round (as a round's is its best step); the half-load figures are the rounds' means.
  const chatApi = { name: 'chat-api', url: ctx.server.url, wsUrl: ctx.server.wsUrl, channelId: channel.id, senderToken: ctx.owner.token, subscriberTokens: tokens, cpu: { server: [ctx.server.pid] } };
  const raw = { name: 'raw ws', url: ctx.raw.url, wsUrl: ctx.raw.wsUrl, channelId: channel.id, senderToken: null, subscriberTokens: tokens, cpu: { server: [ctx.raw.pid] } };
  const projects = [];
  const baselines = [];
  const rounds = p.rounds ?? 1;
  const who = `${p.subscribers.toLocaleString('en-US')} subscribers`;
  for (let round = 1; round <= rounds; round += 1) {
    const of = rounds > 1 ? ` (round ${round}/${rounds})` : '';
    ctx.log(`fan-out: ${who}, chat-api${of}: saturation`);
    const project = await measure(ctx, chatApi, p, { rates: [] });
    ctx.log(`fan-out: ${who}, raw ws${of}: saturation`);
    const baseline = await measure(ctx, raw, p, { rates: [] });
    // Compared at one load that both carry: half the lower of the two saturating rates (CPU
    // per delivery moves with the send rate: at a higher one more frames leave per system
    // call and the kernel wakes each generator for more of them at a time). Each system is
    // also measured at half its own rate, for the notes.
    const same = Math.min(project.saturationRate, baseline.saturationRate) / 2;
    const loads = (own) => (Math.abs(own - same) / same < 0.01 ? [same] : [same, own]);
    ctx.log(`fan-out: ${who}, chat-api${of}: ${same.toFixed(1)} msg/s`);
    const projectHalf = await measure(ctx, chatApi, p, { search: false, rates: loads(project.saturationRate / 2) });
    ctx.log(`fan-out: ${who}, raw ws${of}: ${same.toFixed(1)} msg/s`);
    const baselineHalf = await measure(ctx, raw, p, { search: false, rates: loads(baseline.saturationRate / 2) });
    projects.push(atHalf(project, projectHalf));
    baselines.push(atHalf(baseline, baselineHalf));
  }
  const project = bestRound(projects);
  const baseline = bestRound(baselines);
  const halfMean = (list, pick) => mean(list.map(pick));

  const throughput = figure({ key: 'deliveredPerSec', label: 'delivered events/s at saturation', unit: 'events/s', project: project.deliveredPerSec, baseline: baseline.deliveredPerSec });
  throughput.target = target('ratio >= 0.90', throughput.ratio >= 0.9);
  // Both servers are limited by the load generators on a small machine: CPU per delivery tells them apart.
  const cpu = figure({ key: 'halfLoadServerCpuUs', label: 'server CPU per delivery at half load (same rate)', unit: 'µs', project: halfMean(projects, (r) => r.half.cpuUsPerDelivery.server), baseline: halfMean(baselines, (r) => r.half.cpuUsPerDelivery.server), better: 'lower' });
  cpu.target = target('ratio <= 1.2', cpu.ratio !== null && cpu.ratio <= 1.2);
  const p99 = figure({ key: 'halfLoadP99Ms', label: 'p99 latency at half load (same rate)', unit: 'ms', project: halfMean(projects, (r) => r.halfP99), baseline: halfMean(baselines, (r) => r.halfP99), better: 'lower' });
  p99.target = target('ratio <= 2', p99.ratio !== null && p99.ratio <= 2);
  const perRound = (list) => list.map((r) => Math.round(r.deliveredPerSec).toLocaleString('en-US')).join(', ');
  const own = (r) => r.ownHalf ?? r.half;
  const ownNote = (name, list) => `${name} at half its own saturating rate (${list.map((r) => own(r).rate.toFixed(1)).join(', ')} msg/s): ${list.map((r) => own(r).cpuUsPerDelivery.server?.toFixed(1) ?? '-').join(', ')} µs of server CPU per delivery, p99 ${list.map((r) => own(r).p99?.toFixed(1) ?? '-').join(', ')} ms.`;
  const notes = [
    `${project.subscribers.toLocaleString('en-US')} (chat-api) / ${baseline.subscribers.toLocaleString('en-US')} (raw) subscribers on one channel; half load = half the lower of the two saturating send rates in each round (${projects.map((r) => r.halfRate.toFixed(1)).join(', ')} msg/s), for both, after a warm-up at that rate on fresh connections.`,
    ...(rounds > 1 ? [`${rounds} alternating rounds; delivered events/s at saturation per round: chat-api ${perRound(projects)}, raw ${perRound(baselines)} (the best of each is the figure; half-load figures are means).`] : []),
    ownNote('chat-api', projects),
    ownNote('raw ws', baselines),
  ];
  for (const [name, r] of [['chat-api', project], ['raw', baseline]]) {
    if (!r.keptUpAtSomeRate) notes.push(`${name} did not keep up even at ${r.saturationRate.toFixed(2)} msg/s (one message took ${(r.fanoutMs / 1000).toFixed(2)} s to reach all subscribers); its half load is half that rate.`);
  }
  if (!project.saturated || !baseline.saturated) notes.push(`not saturated within the step limit (${!project.saturated ? 'chat-api' : ''}${!project.saturated && !baseline.saturated ? ', ' : ''}${!baseline.saturated ? 'raw' : ''}): the throughput is a lower bound.`);
  return {
    title: `1. Fan-out: one channel, ${p.subscribers.toLocaleString('en-US')} graphql-ws subscribers`,
    baselineName: 'raw ws',
    figures: [
      throughput,
      figure({ key: 'saturationSendRate', label: 'send rate at saturation', unit: 'msg/s', project: project.saturationRate, baseline: baseline.saturationRate }),
      figure({ key: 'singleMessageFanoutMs', label: 'one message to all subscribers, idle', unit: 'ms', project: project.fanoutMs, baseline: baseline.fanoutMs, better: 'lower' }),
      figure({ key: 'halfLoadP50Ms', label: 'p50 latency at half load (same rate)', unit: 'ms', project: halfMean(projects, (r) => r.halfP50), baseline: halfMean(baselines, (r) => r.halfP50), better: 'lower' }),
      p99,
      cpu,
    ],
    notes,
    details: { project: projects, baseline: baselines },
  };
}

/** A round's search and its half-load steps (measured on fresh connections) as one result. */
function atHalf(searched, loaded) {
  const [half, ownHalf] = loaded.atRates;
  return { ...searched, half, ownHalf: ownHalf ?? half, halfRate: half.rate, halfP50: half.p50, halfP99: half.p99, halfFanoutMs: loaded.fanoutMs };
}

function bestRound(results) {
  return results.reduce((best, result) => (result.deliveredPerSec > best.deliveredPerSec ? result : best));
}

/** Mean of the numbers (null when there is none). */
function mean(values) {
  const numbers = values.filter((value) => typeof value === 'number' && Number.isFinite(value));
  return numbers.length > 0 ? numbers.reduce((sum, value) => sum + value, 0) / numbers.length : null;
}

module.exports = { run, measure };
