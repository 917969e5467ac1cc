'use strict';
// Generator: closed-loop GraphQL-over-HTTP clients (each with its own token and one request
// in flight) for the sends, history and search scenarios.
const { createClient } = require('../lib/http-gql');
const { Histogram } = require('../lib/histogram');
const { now } = require('../lib/clock');
const { serve } = require('../lib/worker');

const SEND = 'mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id createdAt } }';
const HISTORY =
  'query History($channelId: ID!, $last: Int, $before: String) { messages(channelId: $channelId, last: $last, before: $before) { edges { cursor node { id body createdAt author { id username displayName } } } pageInfo { hasPreviousPage startCursor } } }';
const THREAD =
  'query Thread($messageId: ID!, $last: Int, $before: String) { threadReplies(messageId: $messageId, last: $last, before: $before) { edges { cursor node { id body createdAt author { id username displayName } } } pageInfo { hasPreviousPage startCursor } } }';

const SEARCH =
  'query Search($query: String!, $first: Int) { searchMessages(query: $query, first: $first) { edges { cursor node { id body createdAt author { id username displayName } } } pageInfo { hasNextPage endCursor } } }';
const USERS = 'query Users($search: String, $first: Int) { users(search: $search, first: $first) { edges { node { id username displayName } } } }';
const CHANNELS = 'query Channels($search: String, $first: Int) { channels(search: $search, first: $first) { edges { node { id name } } } }';

const ADD_REACTION = 'mutation React($messageId: ID!, $emoji: String!) { addReaction(messageId: $messageId, emoji: $emoji) { id } }';
const REMOVE_REACTION = 'mutation Unreact($messageId: ID!, $emoji: String!) { removeReaction(messageId: $messageId, emoji: $emoji) { id } }';

const pick = (list) => list[Math.floor(Math.random() * list.length)];

/**
 * 'react': toggles one of `emojis` on the hot message (adds it when the client has not, else
 * removes it). The client's own reactions are `mine`; they change only on a success, so the
 * generators know every count the database must hold at the end.
 */
function reactionFor(args, mine) {
  const emoji = pick(args.emojis);
  const adding = !mine.has(emoji);
  return {
    body: { query: adding ? ADD_REACTION : REMOVE_REACTION, variables: { messageId: args.messageId, emoji } },
    onOk: () => (adding ? mine.add(emoji) : mine.delete(emoji)),
  };
}

/** The next request body for an operation. */
function requestFor(op, args, clientIndex, counter) {
  switch (op) {
    case 'send':
      return { query: SEND, variables: { input: { channelId: args.channelId, body: `s ${process.pid} ${clientIndex} ${counter} hello from the sends benchmark` } } };
    case 'history-latest':
      return { query: HISTORY, variables: { channelId: args.channelId, last: args.last } };
    case 'history-paging': {
      const cursor = args.cursors[Math.floor(Math.random() * args.cursors.length)];
      return { query: HISTORY, variables: { channelId: args.channelId, last: args.last, before: cursor } };
    }
    case 'thread-latest':
      return { query: THREAD, variables: { messageId: args.messageId, last: args.last } };
    case 'search':
      return { query: SEARCH, variables: { query: pick(args.queries), first: args.first } };
    case 'users-search':
      return { query: USERS, variables: { search: pick(args.terms), first: args.first } };
    case 'channels-search':
      return { query: CHANNELS, variables: { search: pick(args.terms), first: args.first } };
    default:
      throw new Error(`unknown op ${op}`);
  }
}

serve({
  async run({ url, tokens, op, durationMs, ...args }) {
    const client = createClient(url, { maxSockets: tokens.length });
    const hist = new Histogram();
    let ok = 0;
    let failed = 0;
    let firstError = null;
    const start = now();
    const end = start + durationMs;
    // 'react': each client's reactions at the end (they start with none).
    const reactions = tokens.map(() => new Set());
    await Promise.all(
      tokens.map(async (token, clientIndex) => {
        let counter = 0;
        while (now() < end) {
          counter += 1;
          const next = op === 'react' ? reactionFor(args, reactions[clientIndex]) : { body: requestFor(op, args, clientIndex, counter), onOk: null };
          const body = next.body;
          const t0 = now();
          try {
            const { json, status, text } = await client.post(body, token);
            if (!json || json.errors || !json.data) throw new Error(json && json.errors ? `${json.errors[0].message} (${json.errors[0].extensions && json.errors[0].extensions.code})` : `HTTP ${status} ${text.slice(0, 200)}`);
            if (next.onOk) next.onOk();
            hist.record(now() - t0);
            ok += 1;
          } catch (error) {
            failed += 1;
            firstError ??= String(error.message);
          }
        }
      }),
    );
    const elapsedMs = now() - start;
    client.close();
    const counts = {};
    for (const mine of reactions) for (const emoji of mine) counts[emoji] = (counts[emoji] || 0) + 1;
    return { ok, failed, firstError, elapsedMs, hist: hist.toJSON(), ...(op === 'react' ? { reactionCounts: counts } : {}) };
  },
});
