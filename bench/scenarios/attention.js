'use strict';
// 11. Attention: `sendMessage` with `@channel` in a channel of many members (its notifications
// written by one set-based statement in the send's transaction) beside a plain sendMessage in
// the same channel; and, for a user with 100,000 notifications, unreadNotificationCount and
// the first page of notifications beside messages(last: 50). Closed-loop clients in the
// runner, the same for every figure of a pair, so the ratios compare like with like.
const { Histogram } = require('../lib/histogram');
const { addMembers, seedMessages } = require('../lib/db');
const { figure, target } = require('../lib/report');
const { JOIN_CHANNEL, LATEST } = require('../lib/documents');

const SEND = 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }';
const COUNT = '{ unreadNotificationCount }';
const FIRST_PAGE = '{ notifications(first: 20) { edges { cursor node { id kind read createdAt message { id body } } } pageInfo { hasNextPage } } }';

/** `count` extra users (no sessions: they are only members), in one statement. */
async function seedPlainUsers(db, count, prefix) {
  const { rows } = await db.query(
    `insert into users (id, email, username, username_key, display_name, password_hash)
     select gen_random_uuid(), $1 || g || '@bench.test', $1 || g, $1 || g, $1 || g, 'x' from generate_series(1, $2::int) as g
     returning id`,
    [prefix, count],
  );
  return rows.map((row) => row.id);
}

/** Runs `op` in `concurrency` closed loops for `durationMs`; rate and percentiles. */
async function closedLoop(op, concurrency, durationMs) {
  const hist = new Histogram();
  const end = Date.now() + durationMs;
  const start = Date.now();
  let ok = 0;
  let failed = 0;
  let firstError = null;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        try {
          await op(worker);
          hist.record(Number(process.hrtime.bigint() - t0) / 1e6);
          ok += 1;
        } catch (error) {
          failed += 1;
          firstError ??= String(error.message || error);
        }
      }
    }),
  );
  const elapsedMs = Date.now() - start;
  return { perSec: (ok / elapsedMs) * 1000, p50: hist.percentile(0.5), p99: hist.percentile(0.99), ok, failed, firstError };
}

async function run(ctx) {
  const p = ctx.params.attention;
  const http = ctx.http;
  const notes = [];

  // ---- @channel vs plain sends in one channel of p.members members ----
  const channel = await ctx.createChannel('bench-attention');
  ctx.log(`attention: seeding ${p.members.toLocaleString('en-US')} members`);
  const memberIds = await seedPlainUsers(ctx.db, p.members, `am${process.pid}_`);
  await addMembers(ctx.db, channel.id, memberIds);
  const senders = ctx.users.slice(0, 4);
  for (const user of senders) await http.request(JOIN_CHANNEL, { channelId: channel.id }, user.token);
  const send = (body, worker) => http.request(SEND, { input: { channelId: channel.id, body } }, senders[worker % senders.length].token);
  const plainHist = new Histogram();
  const channelHist = new Histogram();
  ctx.log(`attention: ${p.sendPairs} plain and @channel sends, alternating`);
  for (let i = 0; i < p.sendPairs + 2; i += 1) {
    for (const [hist, body] of [
      [plainHist, `plain message ${i}`],
      [channelHist, `@channel announcement ${i}`],
    ]) {
      const t0 = process.hrtime.bigint();
      await send(body, i);
      // The first two pairs warm up.
      if (i >= 2) hist.record(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  const { rows: written } = await ctx.db.query(
    `select count(*)::int as n from notifications n join messages m on m.id = n.message_id where m.channel_id = $1 and m.body like '@channel%'`,
    [channel.id],
  );
  notes.push(
    `${p.members.toLocaleString('en-US')} members; ${p.sendPairs} sends of each kind, one at a time, alternating; ${written[0].n.toLocaleString('en-US')} notifications written by the @channel sends.`,
  );

  // ---- 100,000 notifications of one user beside messages(last: 50) ----
  const history = await ctx.createChannel('bench-attention-history');
  const reader = ctx.users[4];
  await http.request(JOIN_CHANNEL, { channelId: history.id }, reader.token);
  ctx.log(`attention: seeding ${p.notifications.toLocaleString('en-US')} messages and notifications`);
  await seedMessages(ctx.db, history.id, ctx.users.slice(5, 10).map((u) => u.id), p.notifications);
  await ctx.db.query(
    `insert into notifications (id, user_id, message_id, channel_id, kind, created_at, read_at)
     select gen_random_uuid(), $1, m.id, m.channel_id, 'MENTION', m.created_at, case when m.seq % 2 = 0 then now() else null end
       from messages m where m.channel_id = $2`,
    [reader.id, history.id],
  );
  // As autovacuum leaves a table whose rows are not new: the visibility map set (index-only scans).
  await ctx.db.query('vacuum analyze notifications');
  const readers = ctx.users.slice(10, 10 + p.concurrency);
  for (const user of readers) await http.request(JOIN_CHANNEL, { channelId: history.id }, user.token);
  const measured = {};
  for (const [name, op] of [
    ['latest', () => http.request(LATEST, { channelId: history.id, last: 50 }, reader.token)],
    ['count', () => http.request(COUNT, {}, reader.token)],
    ['page', () => http.request(FIRST_PAGE, {}, reader.token)],
  ]) {
    ctx.log(`attention: ${name}`);
    await closedLoop(op, p.concurrency, p.warmupMs);
    measured[name] = await closedLoop(op, p.concurrency, p.durationMs);
  }
  notes.push(
    `one user with ${p.notifications.toLocaleString('en-US')} notifications (half unread) on as many messages; ${p.concurrency} closed-loop clients in the runner; the baseline column is messages(last: 50) of that channel in the same run.`,
  );
  const failed = Object.values(measured).reduce((sum, one) => sum + one.failed, 0);
  if (failed) notes.push(`failed queries: ${failed} (${Object.values(measured).map((one) => one.firstError).find(Boolean)})`);

  const sendRatio = figure({ key: 'channelSendP50Ms', label: 'sendMessage with @channel p50 (baseline: plain send)', unit: 'ms', project: channelHist.percentile(0.5), baseline: plainHist.percentile(0.5), better: 'lower' });
  sendRatio.target = target('ratio <= 3', sendRatio.ratio !== null && sendRatio.ratio <= 3);
  const count = figure({ key: 'unreadCountPerSec', label: 'unreadNotificationCount queries/s (baseline: messages(last: 50))', unit: 'q/s', project: measured.count.perSec, baseline: measured.latest.perSec });
  count.target = target('ratio >= 1', count.ratio !== null && count.ratio >= 1);
  const page = figure({ key: 'firstPagePerSec', label: 'notifications(first: 20) queries/s (baseline: messages(last: 50))', unit: 'q/s', project: measured.page.perSec, baseline: measured.latest.perSec });
  page.target = target('ratio >= 1', page.ratio !== null && page.ratio >= 1);
  return {
    title: `11. Attention: @channel to ${p.members.toLocaleString('en-US')} members; ${p.notifications.toLocaleString('en-US')} notifications`,
    baselineName: 'plain send / messages(last: 50)',
    figures: [
      sendRatio,
      figure({ key: 'channelSendP99Ms', label: 'sendMessage with @channel p99 (baseline: plain send)', unit: 'ms', project: channelHist.percentile(0.99), baseline: plainHist.percentile(0.99), better: 'lower' }),
      count,
      figure({ key: 'unreadCountP99Ms', label: 'unreadNotificationCount p99 (baseline: messages(last: 50))', unit: 'ms', project: measured.count.p99, baseline: measured.latest.p99, better: 'lower' }),
      page,
      figure({ key: 'firstPageP99Ms', label: 'notifications(first: 20) p99 (baseline: messages(last: 50))', unit: 'ms', project: measured.page.p99, baseline: measured.latest.p99, better: 'lower' }),
    ],
    notes,
    details: { measured, plainP50: plainHist.percentile(0.5), channelP50: channelHist.percentile(0.5) },
  };
}

module.exports = { run };
