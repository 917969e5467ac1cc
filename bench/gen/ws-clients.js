'use strict';
// Generator: many graphql-ws sockets, each with (optionally) one subscription. Counts every
// delivered `next` frame and, for bench messages (body "b <send time> ..."), records the
// send-to-delivery latency. Used by the fan-out and connections scenarios, against the
// server and the raw ws baseline alike (both speak graphql-transport-ws).
const { connect, subscribe, pool } = require('../lib/gql-ws');
const { Histogram } = require('../lib/histogram');
const { now } = require('../lib/clock');
const { serve } = require('../lib/worker');

const BODY_MARK = '"body":"b ';
let sockets = [];
let delivered = 0;
let errors = 0;
let completes = 0;
let latency = new Histogram();
const closeCodes = {};
const samples = [];

function onFrame(text) {
  if (text.includes('"type":"next"')) {
    delivered += 1;
    const at = text.indexOf(BODY_MARK);
    if (at >= 0) {
      const start = at + BODY_MARK.length;
      const end = text.indexOf(' ', start);
      const sentAt = Number(text.slice(start, end));
      if (Number.isFinite(sentAt)) latency.record(now() - sentAt);
    }
    return;
  }
  if (text.includes('"type":"error"')) errors += 1;
  else if (text.includes('"type":"complete"')) completes += 1;
  if (samples.length < 5) samples.push(text.slice(0, 300));
}

function onClose(code) {
  closeCodes[code] = (closeCodes[code] || 0) + 1;
}

serve({
  async connect({ url, tokens, query, variables, concurrency = 50 }) {
    const results = await pool(tokens, concurrency, async (token) => {
      const socket = await connect(url, token, { onFrame, onClose });
      if (query) subscribe(socket, '1', query, variables);
      sockets.push(socket);
    });
    const failed = results.filter((result) => !result.ok);
    return { connected: results.length - failed.length, failed: failed.length, errors: failed.slice(0, 3).map((result) => result.error) };
  },
  counts() {
    return { delivered, errors, completes, closed: Object.values(closeCodes).reduce((a, b) => a + b, 0) };
  },
  /** Latencies recorded since the last collect (then reset), and the running counters. */
  collect() {
    const hist = latency.toJSON();
    latency = new Histogram();
    return { delivered, errors, completes, closeCodes, samples, hist };
  },
  async close() {
    for (const socket of sockets) socket.terminate();
    sockets = [];
    return null;
  },
});
