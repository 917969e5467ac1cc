'use strict';
// Generator: subscription churn. Each socket subscribes to channelEvents with an `after`
// cursor one message behind the newest, waits for that replayed message (the sign that the
// subscription is established), completes it, and subscribes again. With `unique`, every
// document differs by a trailing comment, so the server cannot reuse a parsed and
// validated document (the uncached baseline).
const { connect, subscribe, complete, pool } = require('../lib/gql-ws');
const { Histogram } = require('../lib/histogram');
const { now } = require('../lib/clock');
const { serve } = require('../lib/worker');

let sockets = [];
// Subscription ids are never reused on a socket, not even across runs: graphql-ws would
// mistake a late end of the old subscription for the new one's.
let counter = 0;

serve({
  async connect({ url, tokens, concurrency = 32 }) {
    const waiters = new Map(); // socket -> resolve for the current subscription
    const results = await pool(tokens, concurrency, async (token) => {
      const socket = await connect(url, token, {
        onFrame: (text) => {
          const waiter = waiters.get(socket);
          if (waiter) waiter(text);
        },
      });
      sockets.push({ socket, waiters });
    });
    const failed = results.filter((result) => !result.ok);
    return { connected: results.length - failed.length, failed: failed.length, errors: failed.slice(0, 3).map((result) => result.error) };
  },

  async run({ query, variables, unique, durationMs, timeoutMs = 10_000 }) {
    const hist = new Histogram();
    let ok = 0;
    let failed = 0;
    let firstError = null;
    const start = now();
    const end = start + durationMs;
    await Promise.all(
      sockets.map(async ({ socket, waiters }) => {
        while (now() < end && socket.readyState === socket.OPEN) {
          counter += 1;
          const id = `s${counter}`;
          const document = unique ? `${query}\n# ${process.pid}-${counter}` : query;
          const t0 = now();
          const idMark = `"id":"${id}"`;
          const outcome = await new Promise((resolve) => {
            const timer = setTimeout(() => resolve('timeout'), timeoutMs);
            waiters.set(socket, (text) => {
              if (!text.includes(idMark)) return;
              clearTimeout(timer);
              // A `next` carrying errors is a refused subscription (graphql-ws sends it, then complete).
              resolve(text.includes('"type":"next"') && !text.includes('"errors"') ? 'next' : text.slice(0, 300));
            });
            subscribe(socket, id, document, variables);
          });
          waiters.delete(socket);
          if (outcome === 'next') {
            hist.record(now() - t0);
            ok += 1;
            complete(socket, id);
          } else {
            failed += 1;
            firstError ??= outcome;
            if (outcome === 'timeout') complete(socket, id);
          }
        }
      }),
    );
    return { ok, failed, firstError, elapsedMs: now() - start, hist: hist.toJSON() };
  },

  close() {
    for (const { socket } of sockets) socket.terminate();
    sockets = [];
    return null;
  },
});
