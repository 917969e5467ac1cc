'use strict';
// 2. Sends: 32 concurrent clients calling sendMessage into one channel, over HTTP and over
// graphql-ws (a socket each, one send in flight), in rounds alternating with the baseline. Figures:
// committed messages/s, p99 latency, messages per WAL flush (pg_stat_wal). Baseline:
// single-row INSERTs of the same row through `pg` at the same concurrency, synchronous_commit on.
const { startGenerators, split } = require('../lib/procs');
const { Histogram } = require('../lib/histogram');
const { walStats } = require('../lib/db');
const { figure, target } = require('../lib/report');
const { JOIN_CHANNEL } = require('../lib/documents');

async function messageCount(ctx, channelId) {
  const { rows } = await ctx.db.query('select count(*)::int as n from messages where channel_id = $1', [channelId]);
  return rows[0].n;
}

/**
 * Merges the pending lists of the messages table's GIN indexes (the search vector) into the
 * indexes. Every phase inserts into the same table: without this, a phase paid for merging the
 * entries the phase before it left (an insert that finds the list past gin_pending_list_limit
 * merges it, holding a channel's sends up meanwhile), so each phase's figure depended on
 * what ran before it.
 */
async function cleanGinPendingLists(ctx) {
  await ctx.db.query(
    `select gin_clean_pending_list(i.indexrelid)
       from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am a on a.oid = c.relam
      where i.indrelid = 'messages'::regclass and a.amname = 'gin'`,
  );
}

/**
 * A phase's figures from its committed rows, time, latencies and WAL counters; `outcomes` are
 * the generators' parts (or earlier phases) with their failures.
 */
function phaseFigures({ committed, elapsedMs, hist, syncs, writes, outcomes }) {
  return {
    committed,
    perSec: (committed / elapsedMs) * 1000,
    p50: hist.percentile(0.5),
    p99: hist.percentile(0.99),
    failed: outcomes.reduce((sum, outcome) => sum + outcome.failed, 0),
    firstError: outcomes.map((outcome) => outcome.firstError).find(Boolean) ?? null,
    walSyncs: syncs,
    walWrites: writes,
    // wal_sync counts fsyncs of the WAL; with fsync off (no syncs) fall back to writes.
    perFlush: syncs > 0 ? committed / syncs : writes > 0 ? committed / writes : null,
    flushCounter: syncs > 0 ? 'wal_sync' : 'wal_write',
    elapsedMs,
    hist,
  };
}

/** Runs a load phase between two reads of the row count and the WAL counters. */
async function phase(ctx, channelId, runLoad) {
  await cleanGinPendingLists(ctx);
  const rows0 = await messageCount(ctx, channelId);
  const wal0 = await walStats(ctx.db);
  const parts = await runLoad();
  const wal1 = await walStats(ctx.db);
  const rows1 = await messageCount(ctx, channelId);
  return phaseFigures({
    committed: rows1 - rows0,
    elapsedMs: Math.max(...parts.map((part) => part.elapsedMs)),
    hist: Histogram.mergeAll(parts.map((part) => part.hist)),
    syncs: wal1.syncs - wal0.syncs,
    writes: wal1.writes - wal0.writes,
    outcomes: parts,
  });
}

/** Rounds of one kind as one phase: their sums, and the percentiles of all their latencies. */
function combinePhases(phases) {
  const sum = (key) => phases.reduce((total, ph) => total + ph[key], 0);
  return phaseFigures({
    committed: sum('committed'),
    elapsedMs: sum('elapsedMs'),
    hist: Histogram.mergeAll(phases.map((ph) => ph.hist)),
    syncs: sum('walSyncs'),
    writes: sum('walWrites'),
    outcomes: phases,
  });
}

async function run(ctx) {
  const p = ctx.params.sends;
  const channel = await ctx.createChannel('bench-sends');
  const senders = ctx.users.slice(0, p.clients);
  for (const user of senders) await ctx.http.request(JOIN_CHANNEL, { channelId: channel.id }, user.token);
  const tokenSlices = split(senders.map((u) => u.token), p.generators);
  const rawChannel = await ctx.createChannel('bench-raw-inserts');

  const http = startGenerators('http-load', p.generators);
  const ws = startGenerators('ws-sends', p.generators);
  const pg = startGenerators('pg-load', p.generators);
  let seqBase = 1;
  // The three ways of sending, each a load of `durationMs` into its channel.
  const loads = {
    http: { label: 'chat-api over HTTP', channelId: channel.id, run: (durationMs) => http.all('run', (i) => ({ url: ctx.server.url, tokens: tokenSlices[i], op: 'send', channelId: channel.id, durationMs })) },
    ws: { label: 'chat-api over graphql-ws', channelId: channel.id, run: (durationMs) => ws.all('run', (i) => ({ wsUrl: ctx.server.wsUrl, tokens: tokenSlices[i], channelId: channel.id, durationMs })) },
    raw: {
      label: 'raw INSERT',
      channelId: rawChannel.id,
      run: (durationMs) => {
        const args = (i) => ({
          databaseUrl: ctx.databaseUrl,
          concurrency: tokenSlices[i].length,
          op: 'insert',
          channelId: rawChannel.id,
          authorIds: senders.map((u) => u.id),
          seqStart: seqBase + i,
          seqStride: p.generators,
          durationMs,
        });
        const running = pg.all('run', args);
        seqBase += 10_000_000; // phases never reuse a seq
        return running;
      },
    },
  };
  const rounds = { http: [], ws: [], raw: [] };
  try {
    for (const kind of ['http', 'ws', 'raw']) {
      ctx.log(`sends: warming up (${loads[kind].label})`);
      await loads[kind].run(p.warmupMs);
    }
    // Alternating rounds, so that the three see the same spells of a noisy host.
    for (let round = 1; round <= p.rounds; round += 1) {
      for (const kind of ['http', 'ws', 'raw']) {
        ctx.log(`sends: round ${round}/${p.rounds}: ${p.clients} clients, ${loads[kind].label}`);
        const result = await phase(ctx, loads[kind].channelId, () => loads[kind].run(p.durationMs));
        ctx.log(`sends:   ${Math.round(result.perSec).toLocaleString('en-US')} msg/s, p99 ${result.p99?.toFixed(1)} ms`);
        rounds[kind].push(result);
      }
    }
  } finally {
    await Promise.all([http.stop(), ws.stop(), pg.stop()]);
  }
  const project = combinePhases(rounds.http);
  const overSocket = combinePhases(rounds.ws);
  const baseline = combinePhases(rounds.raw);

  const throughput = figure({ key: 'committedPerSec', label: 'committed messages/s over HTTP', unit: 'msg/s', project: project.perSec, baseline: baseline.perSec });
  throughput.target = target('ratio >= 0.35', throughput.ratio >= 0.35);
  const socketThroughput = figure({ key: 'wsCommittedPerSec', label: 'committed messages/s over graphql-ws', unit: 'msg/s', project: overSocket.perSec, baseline: baseline.perSec });
  socketThroughput.target = target('ratio >= 0.50', socketThroughput.ratio >= 0.5);
  const perFlush = figure({ key: 'messagesPerWalFlush', label: 'messages per WAL flush', project: project.perFlush, baseline: baseline.perFlush });
  perFlush.target = target('chat-api >= 4', project.perFlush !== null && project.perFlush >= 4);
  const notes = [`${p.clients} closed-loop clients, all sending into one channel; WAL flushes from pg_stat_wal ${project.flushCounter} deltas (cluster-wide: other databases' writes count too).`];
  if (project.failed || overSocket.failed || baseline.failed) notes.push(`failed requests: chat-api ${project.failed} (${project.firstError ?? ''}), over graphql-ws ${overSocket.failed} (${overSocket.firstError ?? ''}), raw ${baseline.failed} (${baseline.firstError ?? ''})`);
  return {
    title: `2. Sends: ${p.clients} concurrent sendMessage clients over HTTP and over graphql-ws`,
    baselineName: 'raw INSERT',
    figures: [
      throughput,
      figure({ key: 'p50Ms', label: 'p50 latency', unit: 'ms', project: project.p50, baseline: baseline.p50, better: 'lower' }),
      figure({ key: 'p99Ms', label: 'p99 latency', unit: 'ms', project: project.p99, baseline: baseline.p99, better: 'lower' }),
      socketThroughput,
      figure({ key: 'wsP99Ms', label: 'p99 latency over graphql-ws', unit: 'ms', project: overSocket.p99, baseline: baseline.p99, better: 'lower' }),
      perFlush,
    ],
    notes,
    details: { project, overSocket, baseline },
  };
}

module.exports = { run, phase };
