'use strict';
// 3. History: one channel with many messages (seeded in bulk); messages(last: 50) and paging
// back from random cursors. Figures: queries/s and p99 for each. Baseline: the same keyset
// SELECT through `pg` at the same concurrency, in alternating rounds (chat-api, raw, chat-api,
// raw...), so that both see the same spells of a noisy host.
const { cpuMs, startGenerators, split } = require('../lib/procs');
const { Histogram } = require('../lib/histogram');
const { seedMessages } = require('../lib/db');
const { figure, target } = require('../lib/report');
const { LATEST } = require('../lib/documents');

const PAGE = 50;

/** One phase's generator results (`parts`), or several rounds of them (`rounds`: arrays of parts), summed. */
function summarize(parts, rounds = [parts]) {
  parts = rounds.flat();
  const hist = Histogram.mergeAll(parts.map((part) => part.hist));
  const elapsedMs = rounds.reduce((sum, round) => sum + Math.max(...round.map((part) => part.elapsedMs)), 0);
  const ok = parts.reduce((sum, part) => sum + part.ok, 0);
  return {
    queries: ok,
    perSec: (ok / elapsedMs) * 1000,
    p50: hist.percentile(0.5),
    p99: hist.percentile(0.99),
    failed: parts.reduce((sum, part) => sum + part.failed, 0),
    firstError: parts.map((part) => part.firstError).find(Boolean) ?? null,
  };
}

/**
 * Cursors are opaque, but the bench needs them for random positions: it takes a real cursor
 * of a known seq and, when it reads as "<prefix><seq>", builds others the same way; otherwise
 * it collects real cursors by paging back from the newest message.
 */
async function randomCursors(ctx, channelId, total, count) {
  const latest = await ctx.http.request(LATEST, { channelId, last: 1 }, ctx.owner.token);
  const cursor = latest.messages.edges[0].cursor;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const seqs = Array.from({ length: count }, () => PAGE + 1 + Math.floor(Math.random() * (total - PAGE)));
  if (text.endsWith(`:${total}`) && Buffer.from(text, 'utf8').toString('base64url') === cursor) {
    const prefix = text.slice(0, -String(total).length);
    return { method: 'constructed', cursors: seqs.map((seq) => Buffer.from(`${prefix}${seq}`, 'utf8').toString('base64url')) };
  }
  const cursors = [];
  let before = null;
  for (let page = 0; page < 50 && cursors.length < count; page += 1) {
    const data = await ctx.http.request(LATEST, { channelId, last: 100, before }, ctx.owner.token);
    for (const edge of data.messages.edges) cursors.push(edge.cursor);
    before = data.messages.edges[0]?.cursor;
    if (!before) break;
  }
  return { method: 'collected (newest pages only)', cursors };
}

async function run(ctx) {
  const p = ctx.params.history;
  const channel = await ctx.createChannel('bench-history');
  const authors = ctx.users.slice(0, 32);
  ctx.log(`history: seeding ${p.messages.toLocaleString('en-US')} messages`);
  const seedStart = Date.now();
  await seedMessages(ctx.db, channel.id, authors.map((u) => u.id), p.messages);
  const seedMs = Date.now() - seedStart;
  const { method, cursors } = await randomCursors(ctx, channel.id, p.messages, p.cursors);
  const readers = ctx.users.slice(0, p.concurrency);
  const tokenSlices = split(readers.map((u) => u.token), p.generators);

  const http = startGenerators('http-load', p.generators);
  const pg = startGenerators('pg-load', p.generators);
  const phases = [
    ['latest', 'history-latest', 'select-latest'],
    ['paging', 'history-paging', 'select-before'],
  ];
  const ours = { latest: [], paging: [] };
  const raw = { latest: [], paging: [] };
  const cpuSpent = { latest: 0, paging: 0 };
  try {
    const project = (op, durationMs) => http.all('run', (i) => ({ url: ctx.server.url, tokens: tokenSlices[i], op, channelId: channel.id, last: PAGE, cursors, durationMs }));
    const select = (op, durationMs) =>
      pg.all('run', (i) => ({ databaseUrl: ctx.databaseUrl, concurrency: tokenSlices[i].length, op, channelId: channel.id, limit: PAGE + 1, minSeq: PAGE + 1, maxSeq: p.messages, durationMs }));
    for (const [, op, rawOp] of phases) {
      await project(op, p.warmupMs);
      await select(rawOp, p.warmupMs);
    }
    for (let round = 1; round <= p.rounds; round += 1) {
      for (const [name, op, rawOp] of phases) {
        ctx.log(`history: round ${round}/${p.rounds}: ${name}, chat-api then raw SELECT`);
        const cpu0 = cpuMs(ctx.server.pid);
        ours[name].push(await project(op, p.durationMs));
        cpuSpent[name] += cpuMs(ctx.server.pid) - cpu0;
        raw[name].push(await select(rawOp, p.durationMs));
      }
    }
  } finally {
    await Promise.all([http.stop(), pg.stop()]);
  }
  const project = {};
  const baseline = {};
  for (const [name] of phases) {
    project[name] = summarize(null, ours[name]);
    // The server's own CPU per query (/proc): the rate alone also moves with PostgreSQL, Redis and the generators sharing the cores.
    project[name].cpuUsPerQuery = project[name].queries > 0 ? (cpuSpent[name] * 1000) / project[name].queries : null;
    baseline[name] = summarize(null, raw[name]);
  }

  const latestQps = figure({ key: 'latestPerSec', label: 'messages(last: 50) queries/s', unit: 'q/s', project: project.latest.perSec, baseline: baseline.latest.perSec });
  latestQps.target = target('ratio >= 0.35', latestQps.ratio >= 0.35);
  const latestP99 = figure({ key: 'latestP99Ms', label: 'messages(last: 50) p99', unit: 'ms', project: project.latest.p99, baseline: baseline.latest.p99, better: 'lower' });
  latestP99.target = target('ratio <= 2', latestP99.ratio !== null && latestP99.ratio <= 2);
  const pagingQps = figure({ key: 'pagingPerSec', label: 'paging back from random cursors queries/s', unit: 'q/s', project: project.paging.perSec, baseline: baseline.paging.perSec });
  pagingQps.target = target('ratio >= 0.35', pagingQps.ratio >= 0.35);
  const pagingP99 = figure({ key: 'pagingP99Ms', label: 'paging back p99', unit: 'ms', project: project.paging.p99, baseline: baseline.paging.p99, better: 'lower' });
  pagingP99.target = target('ratio <= 2', pagingP99.ratio !== null && pagingP99.ratio <= 2);
  const notes = [
    `${p.messages.toLocaleString('en-US')} messages in one channel (seeded in ${(seedMs / 1000).toFixed(1)} s); ${p.concurrency} closed-loop readers; pages of ${PAGE}; random cursors ${method}; ${p.rounds} alternating round(s) of ${p.durationMs / 1000} s per phase.`,
  ];
  // No baseline to divide by (the raw SELECT runs in PostgreSQL), so a note rather than a figure.
  const cpu = (value) => (value === null ? '-' : `${Math.round(value).toLocaleString('en-US')} µs`);
  notes.push(`chat-api CPU per query (/proc): last 50 ${cpu(project.latest.cpuUsPerQuery)}, paging back ${cpu(project.paging.cpuUsPerQuery)}.`);
  const failed = project.latest.failed + project.paging.failed + baseline.latest.failed + baseline.paging.failed;
  if (failed) notes.push(`failed queries: ${failed} (${[project.latest, project.paging, baseline.latest, baseline.paging].map((r) => r.firstError).find(Boolean)})`);
  return {
    title: `3. History: ${p.messages.toLocaleString('en-US')} messages, last 50 and paging back`,
    baselineName: 'raw SELECT',
    figures: [
      latestQps,
      figure({ key: 'latestP50Ms', label: 'messages(last: 50) p50', unit: 'ms', project: project.latest.p50, baseline: baseline.latest.p50, better: 'lower' }),
      latestP99,
      pagingQps,
      pagingP99,
    ],
    notes,
    details: { project, baseline, seedMs, cursorMethod: method },
  };
}

module.exports = { run, summarize };
