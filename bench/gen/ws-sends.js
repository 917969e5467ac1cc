'use strict';
// Generator: closed-loop sendMessage clients over graphql-ws (each its own socket and token,
// one send in flight), for the sends scenario's socket path.
const { connect, subscribe } = require('../lib/gql-ws');
const { Histogram } = require('../lib/histogram');
const { now } = require('../lib/clock');
const { serve } = require('../lib/worker');

const SEND = 'mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id createdAt } }';

serve({
  async run({ wsUrl, tokens, channelId, durationMs }) {
    const hist = new Histogram();
    let ok = 0;
    let failed = 0;
    let firstError = null;
    const start = now();
    const end = start + durationMs;
    await Promise.all(
      tokens.map(async (token, clientIndex) => {
        // The operation in flight on this socket: settled by its `next` (result) and `complete`.
        let pending = null;
        const socket = await connect(wsUrl, token, {
          onFrame: (text) => {
            if (!pending) return;
            const frame = JSON.parse(text);
            if (frame.id !== pending.id) return;
            if (frame.type === 'next') pending.result = frame.payload;
            else if (frame.type === 'error') pending.result = { errors: frame.payload };
            if (frame.type === 'complete' || frame.type === 'error') pending.done();
          },
          onClose: (code) => pending && pending.done(new Error(`socket closed ${code}`)),
        });
        let counter = 0;
        while (now() < end) {
          counter += 1;
          const id = String(counter);
          const t0 = now();
          const outcome = await new Promise((resolve) => {
            pending = { id, result: null, done: (error) => resolve(error ? { error } : pending.result) };
            subscribe(socket, id, SEND, { input: { channelId, body: `w ${process.pid} ${clientIndex} ${counter} hello from the sends benchmark` } });
          });
          pending = null;
          if (outcome && !outcome.error && outcome.data && !outcome.errors) {
            hist.record(now() - t0);
            ok += 1;
          } else {
            failed += 1;
            firstError ??= outcome && outcome.error ? String(outcome.error.message) : JSON.stringify(outcome && outcome.errors).slice(0, 200);
            if (outcome && outcome.error) break;
          }
        }
        socket.close(1000);
      }),
    );
    return { ok, failed, firstError, elapsedMs: now() - start, hist: hist.toJSON() };
  },
});
