'use strict';
// Baseline for the request path: a minimal Apollo Server 5 called from node:http, the floor
// our HTTP path is measured against. The Apollo options and plugins are ours (CSRF
// prevention, no batching, no stack traces, landing page and cache control disabled), the
// schema is one field, and the handler does what a bare integration must: read the body,
// parse JSON, call executeHTTPGraphQLRequest, write the answer. No database, no Redis.
const http = require('node:http');
const { ApolloServer, HeaderMap } = require('@apollo/server');
const { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } = require('@apollo/server/plugin/disabled');

const port = Number(process.env.PORT || 0);

async function main() {
  const apollo = new ApolloServer({
    typeDefs: 'type Query { ok: Boolean }',
    resolvers: { Query: { ok: () => true } },
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled()],
  });
  await apollo.start();
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/readyz' || req.url === '/healthz')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      let body;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const headers = new HeaderMap();
      for (const key in req.headers) {
        const value = req.headers[key];
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const q = req.url.indexOf('?');
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method, headers, search: q >= 0 ? req.url.slice(q) : '', body },
        context: async () => ({}),
      });
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') {
        res.setHeader('content-length', Buffer.byteLength(response.body.string));
        res.end(response.body.string);
        return;
      }
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
