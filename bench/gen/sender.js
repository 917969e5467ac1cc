'use strict';
// Generator: one sender at a paced rate (open loop, bounded in-flight requests). Against the
// server it calls sendMessage over HTTP; against the raw baseline it POSTs the same body to
// /send. The body starts with "b <send time>" so subscribers can compute latency.
const { createClient } = require('../lib/http-gql');
const { Histogram } = require('../lib/histogram');
const { now, sleep } = require('../lib/clock');
const { serve } = require('../lib/worker');

const SEND = 'mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id createdAt } }';
const PADDING = ' the quick brown fox jumps over the lazy dog, then checks the channel again';

let client = null;
let target = null;

serve({
  init({ url, token, channelId, maxInFlight = 64 }) {
    client = createClient(url, { maxSockets: maxInFlight });
    target = { token, channelId, maxInFlight };
    return null;
  },

  /** Sends one message and waits for the reply (probes). */
  async once() {
    const body = `b ${now().toFixed(3)}${PADDING}`;
    await client.request(SEND, { input: { channelId: target.channelId, body } }, target.token);
    return null;
  },

  /** Sends at `rate` messages per second for `durationMs`; resolves when all replies are in. */
  async run({ rate, durationMs }) {
    const hist = new Histogram();
    let issued = 0;
    let ok = 0;
    let failed = 0;
    let skipped = 0;
    let inFlight = 0;
    let firstError = null;
    const replies = new Set();
    const start = now();
    const end = start + durationMs;
    const sendOne = () => {
      const sentAt = now();
      const body = `b ${sentAt.toFixed(3)}${PADDING}`;
      inFlight += 1;
      const reply = client
        .request(SEND, { input: { channelId: target.channelId, body } }, target.token)
        .then(() => {
          ok += 1;
          hist.record(now() - sentAt);
        })
        .catch((error) => {
          failed += 1;
          firstError ??= String(error.message);
        })
        .finally(() => {
          inFlight -= 1;
          replies.delete(reply);
        });
      replies.add(reply);
    };
    while (now() < end) {
      const due = Math.floor(((now() - start) / 1000) * rate) - issued - skipped;
      for (let i = 0; i < due; i += 1) {
        if (inFlight >= target.maxInFlight) {
          skipped += 1; // the target is not keeping up: this send is lost to the schedule
          continue;
        }
        issued += 1;
        sendOne();
      }
      await sleep(Math.max(1, Math.min(10, 1000 / rate / 2)));
    }
    const elapsed = now() - start;
    await Promise.race([Promise.allSettled([...replies]), sleep(10_000)]);
    return { issued, ok, failed, skipped, elapsedMs: elapsed, achievedRate: (issued / elapsed) * 1000, firstError, hist: hist.toJSON() };
  },
});
