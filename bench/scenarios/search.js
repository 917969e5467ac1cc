'use strict';
// 6. Search (issue 17): searchMessages over a million messages in 200 channels, bodies drawn
// from a generated word list with a Zipf law; the 8 readers belong to 20 channels (PUBLIC and
// PRIVATE) and may read every PUBLIC one. Figures, all from this run:
// - per query kind (rare word, common word, phrase, from: + word, in: + date range): queries/s,
//   p50, p99 at 8 closed-loop readers, against messages(last: 50) at the same concurrency;
// - the common word's p50 against the rare word's;
// - sendMessage rate with the search indexes against the same phase with them dropped;
// - users(search:) and channels(search:) over 100,000 users and channels, with and without
//   their autocomplete indexes.
// The search indexes are dropped before seeding and built again with the migration's own
// statements (CREATE INDEX CONCURRENTLY), timed, while a sender keeps sending.
const path = require('node:path');
const { startGenerators, split } = require('../lib/procs');
const { seedSearchData, wordList, zipfShare } = require('../lib/search-data');
const { figure, target } = require('../lib/report');
const { JOIN_CHANNEL, SEND } = require('../lib/documents');
const { phase } = require('./sends');
const { summarize } = require('./history');

const MIGRATION = path.join(__dirname, '..', '..', 'dist', 'migrations', 'Migration20261201191500.js');
const VECTOR_MIGRATION = path.join(__dirname, '..', '..', 'dist', 'migrations', 'Migration20261202150000.js');
const DAY = 86_400_000;

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

/** The query sets of each kind (each request picks one at random). */
function queryKinds(words, channels, authors, spanDays) {
  const now = Date.now();
  const rare = words.slice(5000, 5020);
  const readable = channels.filter((c, i) => i < 20 || c.kind === 'PUBLIC');
  return {
    rare: { label: 'rare word', queries: rare },
    common: { label: 'common word', queries: [words[0]] },
    phrase: { label: 'phrase', queries: [`"${words[0]} ${words[1]}"`, `"${words[1]} ${words[0]}"`, `"${words[0]} ${words[2]}"`, `"${words[2]} ${words[0]}"`] },
    fromWord: { label: 'from: + word', queries: authors.slice(0, 8).flatMap((a) => [`from:${a.username} ${words[3]}`, `from:${a.username} ${words[5]}`]) },
    inDates: {
      label: 'in: + date range',
      queries: readable.slice(0, 10).map((c, i) => {
        const end = now - ((i * 7) % Math.max(1, spanDays - 10)) * DAY;
        return `in:${c.name} after:${isoDay(end - 10 * DAY)} before:${isoDay(end)}`;
      }),
    },
  };
}

async function dropIndexes(ctx, names) {
  for (const name of names) await ctx.db.query(`drop index if exists "${name}"`);
}

/** The search vector as it is before migration 20261202150000: no column, trigger or index. */
async function dropSearchVector(ctx) {
  await ctx.db.query('drop index if exists messages_body_search_vector_index');
  await ctx.db.query('drop trigger if exists messages_body_search_fill on messages');
  await ctx.db.query('alter table messages drop column if exists body_search');
}

/** Runs the migrations' steps (named async functions), timing each, while one client keeps sending. */
async function buildIndexes(ctx, steps, sender) {
  const timings = {};
  let building = true;
  const probe = { sends: 0, maxMs: 0, failed: 0 };
  const probing = (async () => {
    while (building) {
      const t0 = Date.now();
      try {
        await ctx.http.request(SEND, { input: { channelId: sender.channelId, body: `probe while indexing ${t0}` } }, sender.token);
        probe.sends += 1;
        probe.maxMs = Math.max(probe.maxMs, Date.now() - t0);
      } catch {
        probe.failed += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    for (const step of steps) {
      const t0 = Date.now();
      await step.run();
      timings[step.name] = Date.now() - t0;
      ctx.log(`search: ${step.name} in ${(timings[step.name] / 1000).toFixed(1)} s`);
    }
  } finally {
    building = false;
    await probing;
  }
  return { timings, probe };
}

async function run(ctx) {
  const p = ctx.params.search;
  const { SEARCH_INDEXES, createIndexStatement } = require(MIGRATION);
  const vector = require(VECTOR_MIGRATION);
  // The expression index of 20261201191500 was replaced by the stored vector of 20261202150000.
  const messageIndexes = SEARCH_INDEXES.filter((index) => index.table === 'messages' && index.name !== 'messages_body_search_index');
  const searchSteps = [
    ...messageIndexes.map((index) => ({ name: index.name, run: () => ctx.db.query(createIndexStatement(index)) })),
    { name: 'body_search column and trigger', run: () => vector.addBodySearchColumn(ctx.db) },
    { name: 'body_search backfill', run: () => vector.backfillBodySearch(ctx.db) },
    { name: vector.BODY_SEARCH_INDEX.name, run: () => vector.buildBodySearchIndex(ctx.db) },
  ];
  const autocompleteIndexes = SEARCH_INDEXES.filter((index) => index.table !== 'messages');
  const readers = ctx.users.slice(0, p.concurrency);
  const authors = ctx.users.slice(p.concurrency, p.concurrency + 32);
  const words = wordList(p.words);
  const prefix = `search${process.pid}`;

  await ctx.db.query('set statement_timeout = 0');
  await dropIndexes(ctx, messageIndexes.map((index) => index.name));
  await dropSearchVector(ctx);
  ctx.log(`search: seeding ${p.messages.toLocaleString('en-US')} messages over ${p.channels} channels`);
  const seedStart = Date.now();
  const channels = await seedSearchData(ctx.db, {
    prefix,
    ownerId: ctx.owner.id,
    authorIds: authors.map((u) => u.id),
    readerIds: readers.map((u) => u.id),
    channels: p.channels,
    memberOf: p.memberOf,
    messages: p.messages,
    words,
    spanSeconds: p.spanDays * 86_400,
    log: ctx.quick ? null : ctx.log,
  });
  await ctx.db.query('analyze messages');
  const seedMs = Date.now() - seedStart;

  // Sends into a channel of their own, first without the search indexes, then with them.
  const sendChannel = await ctx.createChannel('bench-search-sends');
  const senders = ctx.users.slice(0, p.sendClients);
  for (const user of senders) await ctx.http.request(JOIN_CHANNEL, { channelId: sendChannel.id }, user.token);
  const senderSlices = split(senders.map((u) => u.token), p.generators);
  // One set of load generators for every phase (starting processes is slow on a busy machine).
  const http = startGenerators('http-load', p.generators);
  try {
    const sendPhase = async (name) => {
      ctx.log(`search: sends ${name}`);
      const load = (durationMs) => http.all('run', (i) => ({ url: ctx.server.url, tokens: senderSlices[i], op: 'send', channelId: sendChannel.id, durationMs }));
      await load(p.sendWarmupMs);
      return phase(ctx, sendChannel.id, () => load(p.sendDurationMs));
    };
    const sendsWithout = await sendPhase('without the search indexes');
    ctx.log('search: building the search indexes (CREATE INDEX CONCURRENTLY, as the migration does)');
    const build = await buildIndexes(ctx, searchSteps, { channelId: sendChannel.id, token: senders[0].token });
    await ctx.db.query('analyze messages');
    const sendsWith = await sendPhase('with the search indexes');
    // The send phases leave thousands of the newest messages, none with a searched word: a
    // walk newest first would check them all before the seeded ones (a real effect, but of this
    // bench's order, not of the data described). They go, before the searches.
    const sent = await ctx.db.query('delete from messages where channel_id = $1', [sendChannel.id]);
    await ctx.db.query('vacuum analyze messages');

    // Searches and the history page, same readers, same concurrency.
    const kinds = queryKinds(words, channels, authors, p.spanDays);
    const readerSlices = split(readers.map((u) => u.token), p.generators);
    const results = {};
    const load = (args, durationMs) => http.all('run', (i) => ({ url: ctx.server.url, tokens: readerSlices[i], durationMs, ...args }));
    const measure = async (into, name, args) => {
      ctx.log(`search: ${name}`);
      await load(args, p.warmupMs);
      into[name] = summarize(await load(args, p.durationMs));
    };
    await measure(results, 'history', { op: 'history-latest', channelId: channels[0].id, last: 50 });
    for (const [key, kind] of Object.entries(kinds)) await measure(results, key, { op: 'search', queries: kind.queries, first: 20 });
    const hits = {};
    for (const [key, kind] of Object.entries(kinds)) {
      const data = await ctx.http.request('query($q: String!) { searchMessages(query: $q, first: 100) { edges { cursor } } }', { q: kind.queries[0] }, readers[0].token);
      hits[key] = data.searchMessages.edges.length;
    }

    // Autocomplete over 100,000 users and channels, with and without its indexes.
    ctx.log(`search: autocomplete, seeding ${p.autocomplete.toLocaleString('en-US')} users and channels`);
    await ctx.db.query(
      `insert into users (id, email, username, username_key, display_name, password_hash)
       select gen_random_uuid(), 'ac' || g || '@${prefix}.test', 'ac${process.pid}_' || g, 'ac${process.pid}_' || g, ($1::text[])[1 + g % cardinality($1::text[])] || ' ' || g, 'x'
         from generate_series(1, $2::int) as g`,
      [words.slice(0, 2000), p.autocomplete],
    );
    await ctx.db.query(
      `insert into channels (id, name, kind) select gen_random_uuid(), 'room-' || ($1::text[])[1 + g % cardinality($1::text[])] || '-' || g, 'PUBLIC' from generate_series(1, $2::int) as g`,
      [words.slice(0, 2000), p.autocomplete],
    );
    await ctx.db.query('analyze users; analyze channels');
    const userTerms = Array.from({ length: 200 }, () => `ac${process.pid}_${1 + Math.floor(Math.random() * Math.min(9999, p.autocomplete))}`);
    const channelTerms = Array.from({ length: 200 }, (_, i) => words[(i * 7) % 2000].slice(0, 5));
    const autocomplete = {};
    await measure(autocomplete, 'usersWith', { op: 'users-search', terms: userTerms, first: 10 });
    await measure(autocomplete, 'channelsWith', { op: 'channels-search', terms: channelTerms, first: 10 });
    await dropIndexes(ctx, autocompleteIndexes.map((index) => index.name));
    await measure(autocomplete, 'usersWithout', { op: 'users-search', terms: userTerms, first: 10 });
    await measure(autocomplete, 'channelsWithout', { op: 'channels-search', terms: channelTerms, first: 10 });

    const history = results.history;
    const figures = [
      figure({ key: 'historyPerSec', label: 'messages(last: 50) queries/s (reference)', unit: 'q/s', project: history.perSec, baseline: history.perSec }),
    ];
    for (const [key, kind] of Object.entries(kinds)) {
      const r = results[key];
      const qps = figure({ key: `${key}PerSec`, label: `${kind.label} queries/s`, unit: 'q/s', project: r.perSec, baseline: history.perSec });
      qps.target = target('ratio >= 0.50', qps.ratio >= 0.5);
      figures.push(
        qps,
        figure({ key: `${key}P50Ms`, label: `${kind.label} p50`, unit: 'ms', project: r.p50, baseline: history.p50, better: 'lower' }),
        figure({ key: `${key}P99Ms`, label: `${kind.label} p99`, unit: 'ms', project: r.p99, baseline: history.p99, better: 'lower' }),
      );
    }
    const commonVsRare = figure({ key: 'commonVsRareP50', label: 'common word p50 against rare word p50', unit: 'ms', project: results.common.p50, baseline: results.rare.p50, better: 'lower' });
    commonVsRare.target = target('ratio <= 2', commonVsRare.ratio <= 2);
    const sends = figure({ key: 'sendsWithIndexPerSec', label: 'sendMessage with the search indexes (baseline: dropped)', unit: 'msg/s', project: sendsWith.perSec, baseline: sendsWithout.perSec });
    sends.target = target('ratio >= 0.90', sends.ratio >= 0.9);
    figures.push(
      commonVsRare,
      sends,
      figure({ key: 'usersSearchPerSec', label: 'users(search:) with its indexes (baseline: without)', unit: 'q/s', project: autocomplete.usersWith.perSec, baseline: autocomplete.usersWithout.perSec }),
      figure({ key: 'usersSearchP99Ms', label: 'users(search:) p99 with / without', unit: 'ms', project: autocomplete.usersWith.p99, baseline: autocomplete.usersWithout.p99, better: 'lower' }),
      figure({ key: 'channelsSearchPerSec', label: 'channels(search:) with its index (baseline: without)', unit: 'q/s', project: autocomplete.channelsWith.perSec, baseline: autocomplete.channelsWithout.perSec }),
      figure({ key: 'channelsSearchP99Ms', label: 'channels(search:) p99 with / without', unit: 'ms', project: autocomplete.channelsWith.p99, baseline: autocomplete.channelsWithout.p99, better: 'lower' }),
    );

    const indexSeconds = Object.entries(build.timings).map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`).join(', ');
    const shares = `rank 1 word in ~${(100 * (1 - (1 - zipfShare(1, p.words)) ** 11)).toFixed(0)}% of messages, rare words (ranks 5001-5020) in ~${Math.round(p.messages * 11 * zipfShare(5010, p.words))} each`;
    const notes = [
      `${p.messages.toLocaleString('en-US')} messages over ${p.channels} channels (half PUBLIC) and ${p.spanDays} days, 6-16 words each from ${p.words.toLocaleString('en-US')} made-up words with a Zipf law (${shares}); seeded in ${(seedMs / 1000).toFixed(1)} s.`,
      `${p.concurrency} closed-loop readers, each a member of ${p.memberOf} channels; search pages of 20, the history page of 50 (cache-served, as in scenario 3); first-page hits per kind: ${Object.entries(hits).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
      `Index build on the seeded table (the migrations' statements: CREATE INDEX CONCURRENTLY, the search vector's column, trigger and batched backfill): ${indexSeconds}; meanwhile ${build.probe.sends} sends went through, the slowest in ${build.probe.maxMs} ms (${build.probe.failed} failed).`,
      `Sends: ${p.sendClients} closed-loop clients into one channel, ${sendsWithout.perSec.toFixed(0)} msg/s without the indexes, ${sendsWith.perSec.toFixed(0)} with; their ${sent.rowCount} messages were deleted before the searches.`,
      `Autocomplete over ${p.autocomplete.toLocaleString('en-US')} extra users and PUBLIC channels: users by username prefix (~11 hits each), channels by a 5-letter substring.`,
    ];
    const failed = [...Object.values(results), ...Object.values(autocomplete), sendsWith, sendsWithout].reduce((sum, r) => sum + r.failed, 0);
    if (failed) notes.push(`failed requests: ${failed} (${[...Object.values(results), ...Object.values(autocomplete)].map((r) => r.firstError).find(Boolean)})`);
    return {
      title: `6. Search: ${p.messages.toLocaleString('en-US')} messages, ${p.concurrency} readers`,
      baselineName: 'reference',
      figures,
      notes,
      details: { results, autocomplete, sendsWith, sendsWithout, build, seedMs, hits, queries: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, v.queries])) },
    };
  } finally {
    await http.stop();
  }
}

module.exports = { run };
