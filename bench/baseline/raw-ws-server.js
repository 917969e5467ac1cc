'use strict';
// Baseline for fan-out and connections: a bare `ws` server speaking just enough
// graphql-transport-ws for the bench clients (ack, subscribe, complete, ping). POST /graphql
// with a sendMessage body builds one MessageAdded frame, serializes it once, and writes the
// same bytes to every subscribed socket. No GraphQL, no database, no Redis.
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { WebSocketServer } = require('ws');

const port = Number(process.env.PORT || 0);
const author = { id: randomUUID(), username: 'raw_sender', displayName: 'raw sender' };
const subscribed = new Set();
let seq = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/readyz' || req.url === '/healthz')) {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (req.method !== 'POST' || req.url !== '/graphql') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let body = '';
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')).variables.input.body;
    } catch {
      res.writeHead(400).end();
      return;
    }
    seq += 1;
    const message = { id: randomUUID(), body, createdAt: new Date().toISOString(), author };
    const cursor = Buffer.from(`msg:${seq}`).toString('base64url');
    const frame = JSON.stringify({ id: '1', type: 'next', payload: { data: { channelEvents: { __typename: 'MessageAdded', cursor, message } } } });
    for (const socket of subscribed) socket.send(frame);
    const reply = JSON.stringify({ data: { sendMessage: { id: message.id, createdAt: message.createdAt } } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) }).end(reply);
  });
});

const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false });
wss.on('connection', (socket) => {
  socket.on('message', (data) => {
    const text = data.toString();
    if (text.includes('"connection_init"')) socket.send('{"type":"connection_ack"}');
    else if (text.includes('"subscribe"')) subscribed.add(socket);
    else if (text.includes('"complete"')) subscribed.delete(socket);
    else if (text.includes('"ping"')) socket.send('{"type":"pong"}');
  });
  socket.on('close', () => subscribed.delete(socket));
  socket.on('error', () => subscribed.delete(socket));
});

server.listen(port, '127.0.0.1');
const shutdown = () => {
  for (const socket of wss.clients) socket.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
