'use strict';
// 8. Reactions: 32 concurrent clients adding and removing reactions on one hot message over
// HTTP (each toggles one of a few emoji per request). Figures: committed reaction changes/s
// against sendMessage/s by the same 32 clients into the same channel, and whether every count
// is exact at the end (the database's groups and the API's `reactions` against what the
// clients themselves added and removed).
const { startGenerators, split } = require('../lib/procs');
const { now, sleep } = require('../lib/clock');
const { Histogram } = require('../lib/histogram');
const { figure, target } = require('../lib/report');
const { JOIN_CHANNEL, SEND } = require('../lib/documents');

const EMOJIS = ['👍', '🎉', '❤️', ':eyes:', '👨‍👩‍👧‍👦'];
const REACTIONS = 'query Reactions($channelId: ID!) { messages(channelId: $channelId, last: 20) { edges { node { id reactions { emoji count } } } } }';

// What a chat client with reactions keeps open: new and updated messages with their reactions,
// reactedByMe included (so every event is rendered per subscriber, the costlier case).
const EVENTS_WITH_REACTIONS = `subscription Events($channelId: ID!) { channelEvents(channelId: $channelId) { __typename
  ... on MessageAdded { cursor message { id body author { id displayName } reactions { emoji count reactedByMe } } }
  ... on MessageUpdated { message { id body author { id displayName } reactions { emoji count reactedByMe } } } } }`;
const ADD_REACTION = 'mutation React($messageId: ID!, $emoji: String!) { addReaction(messageId: $messageId, emoji: $emoji) { id } }';
const REMOVE_REACTION = 'mutation Unreact($messageId: ID!, $emoji: String!) { removeReaction(messageId: $messageId, emoji: $emoji) { id } }';

async function delivered(subs) {
  const counts = await subs.all('counts');
  return counts.reduce((sum, c) => sum + c.delivered, 0);
}

/** Milliseconds from sending `act` until `n` more events were delivered (null when they were not in time). */
async function fanoutOnce(subs, n, timeoutMs, act, answered = []) {
  const before = await delivered(subs);
  const t0 = now();
  await act();
  // The request's own time (its event is published before it answers).
  answered.push(Math.round(now() - t0));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await delivered(subs);
    if (count - before >= n) return now() - t0;
    if (Date.now() > deadline) return null;
    await sleep(5);
  }
}

const median = (values) => {
  const sorted = values.filter((value) => value !== null).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
};

/**
 * One new message and one reaction change, each to `subscribers` subscribers of a document
 * selecting reactions with reactedByMe, alternately while otherwise idle; the median times.
 */
async function fanoutProbe(ctx, channelId, messageId, p) {
  const subscribers = ctx.users.slice(0, p.subscribers);
  const subs = startGenerators('ws-clients', 2);
  try {
    const tokenSlices = split(subscribers.map((u) => u.token), 2);
    const connected = await subs.all('connect', (i) => ({ url: ctx.server.wsUrl, tokens: tokenSlices[i], query: EVENTS_WITH_REACTIONS, variables: { channelId }, concurrency: 50 }), 300_000);
    const n = connected.reduce((sum, c) => sum + c.connected, 0);
    // Subscriptions are not acked: a first message reaching everyone is the barrier.
    const barrier = await fanoutOnce(subs, n, p.probeTimeoutMs * 3, () => ctx.http.request(SEND, { input: { channelId, body: 'barrier' } }, ctx.owner.token));
    if (barrier === null) throw new Error(`the barrier message did not reach all ${n} subscribers`);
    const message = [];
    const reaction = [];
    const answered = { message: [], reaction: [] };
    for (let i = 0; i < p.probes; i += 1) {
      message.push(await fanoutOnce(subs, n, p.probeTimeoutMs, () => ctx.http.request(SEND, { input: { channelId, body: `probe ${i}` } }, ctx.owner.token), answered.message));
      await sleep(200);
      const doc = i % 2 === 0 ? ADD_REACTION : REMOVE_REACTION;
      reaction.push(await fanoutOnce(subs, n, p.probeTimeoutMs, () => ctx.http.request(doc, { messageId, emoji: '🔥' }, ctx.owner.token), answered.reaction));
      await sleep(200);
    }
    const round = (values) => values.map((value) => (value === null ? null : Math.round(value)));
    return { subscribers: n, messageMs: median(message), reactionMs: median(reaction), message: round(message), reaction: round(reaction), answered };
  } finally {
    await subs.all('close').catch(() => undefined);
    await subs.stop();
  }
}

function summary(parts) {
  const elapsedMs = Math.max(...parts.map((part) => part.elapsedMs));
  const ok = parts.reduce((sum, part) => sum + part.ok, 0);
  const hist = Histogram.mergeAll(parts.map((part) => part.hist));
  return {
    ok,
    perSec: (ok / elapsedMs) * 1000,
    p50: hist.percentile(0.5),
    p99: hist.percentile(0.99),
    failed: parts.reduce((sum, part) => sum + part.failed, 0),
    firstError: parts.map((part) => part.firstError).find(Boolean) ?? null,
    elapsedMs,
  };
}

async function run(ctx) {
  const p = ctx.params.reactions;
  const channel = await ctx.createChannel('bench-reactions');
  const clients = ctx.users.slice(0, p.clients);
  for (const user of clients) await ctx.http.request(JOIN_CHANNEL, { channelId: channel.id }, user.token);
  const tokenSlices = split(clients.map((u) => u.token), p.generators);
  const send = async (body) => (await ctx.http.request(SEND, { input: { channelId: channel.id, body } }, ctx.owner.token)).sendMessage.id;
  const warmMessage = await send('warm-up message');
  const hotMessage = await send('the hot message');

  const http = startGenerators('http-load', p.generators);
  let reactions;
  let sends;
  let expected = {};
  let stored;
  let served;
  try {
    ctx.log(`reactions: ${p.clients} clients toggling ${EMOJIS.length} emoji on one message`);
    const react = (messageId, durationMs) => http.all('run', (i) => ({ url: ctx.server.url, tokens: tokenSlices[i], op: 'react', messageId, emojis: EMOJIS, durationMs }));
    await react(warmMessage, p.warmupMs);
    const parts = await react(hotMessage, p.durationMs);
    reactions = summary(parts);
    for (const part of parts) for (const [emoji, count] of Object.entries(part.reactionCounts)) expected[emoji] = (expected[emoji] || 0) + count;
    // The counts as stored and as the API serves them, before the sends push the message out of the newest page.
    const { rows } = await ctx.db.query('select emoji, count(*)::int as count from message_reactions where message_id = $1 group by emoji', [hotMessage]);
    stored = Object.fromEntries(rows.map((row) => [row.emoji, row.count]));
    const page = await ctx.http.request(REACTIONS, { channelId: channel.id }, ctx.owner.token);
    const hot = page.messages.edges.find((edge) => edge.node.id === hotMessage);
    served = hot ? Object.fromEntries(hot.node.reactions.map((group) => [group.emoji, group.count])) : {};

    ctx.log(`reactions: the same ${p.clients} clients calling sendMessage into the channel`);
    const load = (durationMs) => http.all('run', (i) => ({ url: ctx.server.url, tokens: tokenSlices[i], op: 'send', channelId: channel.id, durationMs }));
    await load(p.warmupMs);
    sends = summary(await load(p.durationMs));
  } finally {
    await http.stop();
  }

  ctx.log(`reactions: fan-out of a new message and of a reaction change to ${p.subscribers} subscribers (reactedByMe selected)`);
  const fanout = await fanoutProbe(ctx, channel.id, hotMessage, p);

  const same = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
  // A failed request may or may not have committed: exactness is judged only without failures.
  const exact = reactions.failed === 0 && same(expected, stored) && same(stored, served);

  const throughput = figure({ key: 'reactionChangesPerSec', label: 'reaction changes/s (baseline: sendMessage/s)', unit: 'ops/s', project: reactions.perSec, baseline: sends.perSec });
  throughput.target = target('ratio >= 0.50', throughput.ratio >= 0.5);
  const total = (counts) => Object.values(counts).reduce((sum, count) => sum + count, 0);
  // Stored reactions against the clients' own tally; the target asks every emoji's count (database and API) to match.
  const exactFigure = figure({ key: 'reactionsStored', label: 'reactions stored at the end (baseline: the clients\' tally)', project: total(stored), baseline: total(expected) });
  exactFigure.target = target('every count exact', exact);
  const fanoutFigure = figure({
    key: 'reactionFanoutMs',
    label: `one reaction change to ${fanout.subscribers} subscribers, idle (baseline: one new message)`,
    unit: 'ms',
    project: fanout.reactionMs,
    baseline: fanout.messageMs,
    better: 'lower',
  });
  fanoutFigure.target = target('ratio <= 1.00', fanoutFigure.ratio !== null && fanoutFigure.ratio <= 1);
  const notes = [
    `${p.clients} closed-loop clients on one message, each request adding or removing (toggling) one of ${EMOJIS.length} emoji; baseline: the same clients sending into the same channel.`,
    `fan-out probes (ms from the request to the last delivery, median of ${p.probes}): new message ${JSON.stringify(fanout.message)}, reaction change ${JSON.stringify(fanout.reaction)}; of which the request itself (answered after its event is published): sendMessage ${JSON.stringify(fanout.answered.message)}, addReaction/removeReaction ${JSON.stringify(fanout.answered.reaction)}. The subscription selects reactions with reactedByMe, so both kinds of event are rendered per subscriber.`,
    `final counts: clients ${JSON.stringify(expected)}, database ${JSON.stringify(stored)}, API ${JSON.stringify(served)}`,
  ];
  if (reactions.failed || sends.failed) notes.push(`failed requests: reactions ${reactions.failed} (${reactions.firstError ?? ''}), sends ${sends.failed} (${sends.firstError ?? ''})`);
  return {
    title: `8. Reactions: ${p.clients} clients adding and removing reactions on one hot message`,
    baselineName: 'sendMessage',
    figures: [
      throughput,
      figure({ key: 'p50Ms', label: 'p50 latency', unit: 'ms', project: reactions.p50, baseline: sends.p50, better: 'lower' }),
      figure({ key: 'p99Ms', label: 'p99 latency', unit: 'ms', project: reactions.p99, baseline: sends.p99, better: 'lower' }),
      exactFigure,
      fanoutFigure,
    ],
    notes,
    details: { reactions, sends, expected, stored, served, fanout },
  };
}

module.exports = { run };
