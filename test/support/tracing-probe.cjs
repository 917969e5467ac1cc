// Runs the compiled app (dist/) with tracing on and an in-memory exporter, the way main.ts
// starts it: tracing first, then the app's modules (so http, pg, ioredis and graphql are
// patched as they load; jest's module system would bypass the patching, hence a process).
// Signs up, creates a channel and sends a message with a known request id, then prints the
// finished spans as one JSON line. Configuration comes from the environment (loadConfig).
'use strict';
require('reflect-metadata');
const path = require('node:path');
const dist = path.resolve(__dirname, '..', '..', 'dist', 'src');
const { InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');
const { loadConfig } = require(path.join(dist, 'config.js'));
const { startTracing } = require(path.join(dist, 'ops', 'tracing.js'));

async function main() {
  const config = loadConfig(process.env);
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing(config, { exporter });
  const { createApp } = require(path.join(dist, 'app.js'));
  const app = await createApp(config, { migrate: false });
  const { url } = await app.start();
  const post = async (query, variables, token, requestId) => {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (requestId) headers['x-request-id'] = requestId;
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const body = await response.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const name = `trace${process.pid}${Date.now() % 100000}`;
  const { signup } = await post('mutation($input: SignupInput!) { signup(input: $input) { token } }', {
    input: { username: name, email: `${name}@example.test`, password: 'correct horse battery staple', displayName: name },
  });
  const { createChannel } = await post('mutation($input: CreateChannelInput!) { createChannel(input: $input) { id } }', { input: { name } }, signup.token);
  await post('mutation SendMessage($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { channelId: createChannel.id, body: 'traced' } }, signup.token, process.env.PROBE_REQUEST_ID);
  await app.stop();
  // Before shutdown, which empties the in-memory exporter.
  const spans = exporter.getFinishedSpans().map((span) => ({
    name: span.name,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentId: span.parentSpanContext?.spanId ?? null,
    attributes: span.attributes,
  }));
  await tracing.shutdown().catch(() => undefined);
  process.stdout.write(`${JSON.stringify(spans)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
