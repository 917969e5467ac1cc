'use strict';
// 9. Threads: channel history with replies present, and a long thread.
// - messages(last: 50) and paging back from random cursors on a channel of N messages of
//   which a third are replies, against the same on a channel of N messages without replies
//   (target: within 10%; history walks a partial index that skips replies).
// - threadReplies(last: 50) on a thread of R replies against messages(last: 50) on the
//   channel without replies (target: at least its rate). Both channels are seeded in bulk.
const { startGenerators, split } = require('../lib/procs');
const { figure, target } = require('../lib/report');
const { summarize } = require('./history');

const PAGE = 50;

/** A deterministic message id (so replies can name their root in the same INSERT). */
const ID = (channel, seq) => `md5(${channel}::uuid::text || ':' || (${seq})::text)::uuid`;

/** N messages in a channel; with `replyEvery` k, every k-th seq is a reply to the message before it. */
async function seedChannel(client, channelId, authorIds, count, replyEvery) {
  await client.query(
    `insert into messages (id, channel_id, seq, author_id, body, created_at, upvotes, downvotes, thread_root_id)
     select ${ID('$1', 'g')}, $1::uuid, g, ($2::uuid[])[1 + (g % cardinality($2::uuid[]))],
            'history message ' || g || ' with a little text so rows have a realistic size',
            now() - make_interval(secs => $3 - g), 0, 0,
            case when $4::int > 0 and g % $4::int = 0 then ${ID('$1', 'g - 1')} end
     from generate_series(1, $3::int) as g`,
    [channelId, authorIds, count, replyEvery],
  );
  if (replyEvery > 0) {
    await client.query(
      `insert into threads (root_id, channel_id, reply_count, last_reply_at, last_reply_seq)
       select ${ID('$1', 'g - 1')}, $1::uuid, 1, now(), g from generate_series($2::int, $3::int, $2::int) as g`,
      [channelId, replyEvery, count],
    );
  }
  await client.query('update channels set last_seq = $2, last_activity_at = now() where id = $1', [channelId, count]);
}

/** A root (seq 1) and `replies` replies to it (seqs 2..replies + 1). */
async function seedThread(client, channelId, authorIds, replies) {
  await client.query(
    `insert into messages (id, channel_id, seq, author_id, body, created_at, upvotes, downvotes, thread_root_id)
     select ${ID('$1', 'g')}, $1::uuid, g, ($2::uuid[])[1 + (g % cardinality($2::uuid[]))],
            'thread message ' || g || ' with a little text so rows have a realistic size',
            now() - make_interval(secs => $3 - g), 0, 0, case when g > 1 then ${ID('$1', '1')} end
     from generate_series(1, $3::int) as g`,
    [channelId, authorIds, replies + 1],
  );
  await client.query(`insert into threads (root_id, channel_id, reply_count, last_reply_at, last_reply_seq) values (${ID('$1', '1')}, $1::uuid, $2::int, now(), $2::int + 1)`, [channelId, replies]);
  await client.query('update channels set last_seq = $2, last_activity_at = now() where id = $1', [channelId, replies + 1]);
  const { rows } = await client.query(`select ${ID('$1', '1')} as id`, [channelId]);
  return rows[0].id;
}

/** Message cursors are `msg:<seq>` in base64url (the bench checks one against the API first). */
const cursorOf = (seq) => Buffer.from(`msg:${seq}`, 'utf8').toString('base64url');

async function run(ctx) {
  const p = ctx.params.threads;
  const authors = ctx.users.slice(0, 32).map((u) => u.id);
  const [plain, replied, threaded] = [await ctx.createChannel('bench-plain'), await ctx.createChannel('bench-replies'), await ctx.createChannel('bench-thread')];
  ctx.log(`threads: seeding 2 x ${p.messages.toLocaleString('en-US')} messages (a third of one channel replies) and a thread of ${p.replies.toLocaleString('en-US')} replies`);
  const seedStart = Date.now();
  await seedChannel(ctx.db, plain.id, authors, p.messages, 0);
  await seedChannel(ctx.db, replied.id, authors, p.messages, 3);
  const rootId = await seedThread(ctx.db, threaded.id, authors, p.replies);
  await ctx.db.query('analyze messages');
  await ctx.db.query('analyze threads');
  const seedMs = Date.now() - seedStart;

  // The cursor format, checked once against the API.
  const probe = await ctx.http.request('query ($c: ID!) { messages(channelId: $c, last: 1) { edges { cursor } } }', { c: plain.id }, ctx.owner.token);
  if (probe.messages.edges[0].cursor !== cursorOf(p.messages)) throw new Error('message cursors are not msg:<seq>; update bench/scenarios/threads.js');
  const cursors = Array.from({ length: p.cursors }, () => cursorOf(PAGE * 2 + 1 + Math.floor(Math.random() * (p.messages - PAGE * 2))));

  const readers = ctx.users.slice(0, p.concurrency);
  const tokenSlices = split(readers.map((u) => u.token), p.generators);
  const results = {};
  const http = startGenerators('http-load', p.generators);
  try {
    const load = (op, args, durationMs) => http.all('run', (i) => ({ url: ctx.server.url, tokens: tokenSlices[i], op, last: PAGE, cursors, durationMs, ...args }));
    const runs = [
      ['plainLatest', 'history-latest', { channelId: plain.id }],
      ['repliedLatest', 'history-latest', { channelId: replied.id }],
      ['plainPaging', 'history-paging', { channelId: plain.id }],
      ['repliedPaging', 'history-paging', { channelId: replied.id }],
      ['threadLatest', 'thread-latest', { messageId: rootId }],
    ];
    for (const [name, op, args] of runs) {
      ctx.log(`threads: ${name}`);
      await load(op, args, p.warmupMs);
      results[name] = summarize(await load(op, args, p.durationMs));
    }
  } finally {
    await http.stop();
  }

  const latest = figure({ key: 'repliedLatestPerSec', label: 'messages(last: 50), a third replies vs none, q/s', unit: 'q/s', project: results.repliedLatest.perSec, baseline: results.plainLatest.perSec });
  latest.target = target('ratio >= 0.90', latest.ratio >= 0.9);
  const paging = figure({ key: 'repliedPagingPerSec', label: 'paging back (random cursors), a third replies vs none, q/s', unit: 'q/s', project: results.repliedPaging.perSec, baseline: results.plainPaging.perSec });
  paging.target = target('ratio >= 0.90', paging.ratio >= 0.9);
  const thread = figure({ key: 'threadLatestPerSec', label: 'threadReplies(last: 50) vs messages(last: 50), q/s', unit: 'q/s', project: results.threadLatest.perSec, baseline: results.plainLatest.perSec });
  thread.target = target('ratio >= 1.00', thread.ratio >= 1);
  const threadVsPaging = figure({ key: 'threadVsPagingPerSec', label: 'threadReplies(last: 50) vs paging back (both from PostgreSQL), q/s', unit: 'q/s', project: results.threadLatest.perSec, baseline: results.plainPaging.perSec });
  const notes = [
    `${p.messages.toLocaleString('en-US')} messages per channel (one third replies in one), a thread of ${p.replies.toLocaleString('en-US')} replies, seeded in ${(seedMs / 1000).toFixed(1)} s; ${p.concurrency} closed-loop readers; pages of ${PAGE}.`,
    'messages(last: 50) is served by the recent-messages window (Redis) on both channels; paging back reads PostgreSQL through the partial index; threadReplies always reads PostgreSQL.',
  ];
  const failed = Object.values(results).reduce((sum, r) => sum + r.failed, 0);
  if (failed) notes.push(`failed queries: ${failed} (${Object.values(results).map((r) => r.firstError).find(Boolean)})`);
  return {
    title: `9. Threads: history with a third replies (${p.messages.toLocaleString('en-US')} messages), a ${p.replies.toLocaleString('en-US')}-reply thread`,
    baselineName: 'without replies / messages',
    figures: [
      latest,
      figure({ key: 'repliedLatestP99Ms', label: 'messages(last: 50) p99, with vs without replies', unit: 'ms', project: results.repliedLatest.p99, baseline: results.plainLatest.p99, better: 'lower' }),
      paging,
      figure({ key: 'repliedPagingP99Ms', label: 'paging back p99, with vs without replies', unit: 'ms', project: results.repliedPaging.p99, baseline: results.plainPaging.p99, better: 'lower' }),
      thread,
      threadVsPaging,
      figure({ key: 'threadLatestP99Ms', label: 'threadReplies(last: 50) p99 vs messages(last: 50)', unit: 'ms', project: results.threadLatest.p99, baseline: results.plainLatest.p99, better: 'lower' }),
    ],
    notes,
    details: { results, seedMs },
  };
}

module.exports = { run };
