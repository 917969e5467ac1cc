'use strict';
// The client side of graphql-transport-ws on the bare `ws` package: generators hold
// thousands of these, so it does only what the benchmarks need (no retries, no parsing of
// `next` payloads beyond what the caller asks for).
const WebSocket = require('ws');

const PROTOCOL = 'graphql-transport-ws';

/**
 * Opens a socket, sends connection_init with the token, and resolves once acknowledged.
 * `onFrame(text)` sees every later frame as a string; `onClose(code, reason)` the close.
 */
function connect(url, token, { onFrame, onClose, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, PROTOCOL, { perMessageDeflate: false });
    let acked = false;
    const timer = setTimeout(() => {
      if (!acked) {
        socket.terminate();
        reject(new Error('connection_ack timed out'));
      }
    }, timeoutMs);
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} }));
    });
    socket.on('message', (data) => {
      const text = data.toString();
      if (!acked) {
        if (text.includes('"connection_ack"')) {
          acked = true;
          clearTimeout(timer);
          resolve(socket);
        }
        return;
      }
      // Protocol-level pings (ws-level ones are answered by `ws` itself).
      if (text.length < 40 && text.includes('"type":"ping"')) {
        socket.send('{"type":"pong"}');
        return;
      }
      if (onFrame) onFrame(text, socket);
    });
    socket.on('error', (error) => {
      if (!acked) {
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      if (!acked) reject(new Error(`closed before connection_ack: ${code} ${reason}`));
      else if (onClose) onClose(code, String(reason));
    });
  });
}

function subscribe(socket, id, query, variables) {
  socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
}

function complete(socket, id) {
  socket.send(JSON.stringify({ id, type: 'complete' }));
}

/** Runs `fn` over `items` with at most `limit` in flight; resolves with per-item results. */
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { ok: true, value: await fn(items[index], index) };
      } catch (error) {
        results[index] = { ok: false, error: String(error && error.message ? error.message : error) };
      }
    }
  });
  await Promise.all(lanes);
  return results;
}

module.exports = { connect, subscribe, complete, pool, PROTOCOL };
