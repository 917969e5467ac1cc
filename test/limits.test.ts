import { getIntrospectionQuery } from 'graphql';
import WebSocket from 'ws';
import { countQueries, resetState } from './helpers/db';
import { gql } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { createUser } from './helpers/factories';
import { connectWs, disposeAllWsClients } from './helpers/ws';

/** A raw graphql-ws socket, for protocol edge cases the client library would never produce. */
function rawSocket(url: string, headers: Record<string, string> = {}): Promise<{ socket: WebSocket; closed: Promise<{ code: number; reason: string }>; messages: unknown[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { headers });
    const messages: unknown[] = [];
    const closed = new Promise<{ code: number; reason: string }>((done) => socket.on('close', (code, reason) => done({ code, reason: reason.toString() })));
    socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
    socket.once('open', () => resolve({ socket, closed, messages }));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    socket.once('error', reject);
  });
}

async function waitForMessage(messages: unknown[], predicate: (m: any) => boolean, timeoutMs = 3000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = messages.find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching message in ${JSON.stringify(messages)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('request limits over HTTP', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startTestApp({ GRAPHQL_MAX_COST: '50' });
  });
  beforeEach(() => resetState(server.app));
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  it('refuses more than 15 aliases before running anything', async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    expect((await gql(server.url, aliases(15))).errors).toBeUndefined();
    const { result } = await countQueries(server.app, () => gql(server.url, aliases(16)));
    expect(result.errors?.[0].message).toMatch(/alias/i);
    expect(result.data).toBeUndefined();
  });

  it('refuses documents over 2000 tokens', async () => {
    // 4 tokens per variable definition: `$`, name, `:`, type.
    const variables = (n: number) => `query Q(${Array.from({ length: n }, (_, i) => `$v${i}: Int`).join(' ')}) { __typename }`;
    const underLimit = await gql(server.url, variables(490));
    expect(underLimit.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED'); // parsed: unused variables
    const response = await gql(server.url, variables(500));
    expect(response.errors?.[0].message).toMatch(/tokens/);
    expect(response.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('refuses operations whose cost is over the limit, before any SQL runs', async () => {
    const user = await createUser(server.app);
    const cheap = await gql(server.url, '{ me { id } }', {}, { token: user.token });
    expect(cheap.errors).toBeUndefined();
    const aliases = `{ ${Array.from({ length: 15 }, (_, i) => `m${i}: me { id username displayName bio createdAt }`).join(' ')} }`;
    const { result, queries } = await countQueries(server.app, () => gql(server.url, aliases, {}, { token: user.token }));
    expect(result.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(result.data).toBeUndefined();
    // Only the session lookup of the context ran; no resolver did.
    expect(queries.filter((sql) => !/from "?sessions"?|update "?sessions"?/.test(sql))).toEqual([]);
  });

  it('answers over-limit requests with HTTP 400, and exempts introspection (GraphiQL) from the cost limit', async () => {
    const costly = `{ ${Array.from({ length: 15 }, (_, i) => `m${i}: me { id username displayName bio createdAt }`).join(' ')} }`;
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: costly }) });
    expect(response.status).toBe(400);
    const introspection = await gql(server.url, getIntrospectionQuery());
    expect(introspection.errors).toBeUndefined();
    expect(introspection.data?.__schema.queryType.name).toBe('Query');
  });

  it('refuses batched HTTP requests', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(response.status).toBe(400);
  });

  it('prevents CSRF: simple requests without a preflight are refused', async () => {
    const getRequest = await fetch(`${server.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(getRequest.status).toBe(400);
    expect(await getRequest.text()).toMatch(/CSRF/i);
    const textPlain = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(textPlain.status).toBe(400);
  });
});

describe('depth and introspection', () => {
  afterAll(stopAllApps);

  it('refuses documents deeper than the limit', async () => {
    const server = await startTestApp({ GRAPHQL_MAX_DEPTH: '1' });
    const response = await gql(server.url, '{ me { id } }');
    expect(response.errors?.[0].message).toMatch(/depth/i);
    expect(response.data).toBeUndefined();
    await server.stop();
  });

  it('turns introspection and field suggestions off when disabled (the production default)', async () => {
    const server = await startTestApp({ INTROSPECTION: 'false' });
    const introspection = await gql(server.url, '{ __schema { types { name } } }');
    expect(introspection.errors?.[0].message).toMatch(/introspection/i);
    const typo = await gql(server.url, '{ mee { id } }');
    expect(typo.errors?.[0].message).not.toMatch(/Did you mean/);
    await server.stop();

    const development = await startTestApp();
    expect((await gql(development.url, '{ __schema { queryType { name } } }')).errors).toBeUndefined();
    expect((await gql(development.url, '{ mee { id } }')).errors?.[0].message).toMatch(/Did you mean "me"/);
    await development.stop();
  });
});

describe('graphql-ws limits and protocol edge cases', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startTestApp({
      WS_INIT_TIMEOUT_MS: '300',
      WS_MAX_CONNECTIONS_PER_USER: '2',
      ALLOWED_ORIGINS: 'http://chat.example.test',
      GRAPHQL_MAX_COST: '50',
    });
  });
  beforeEach(() => resetState(server.app));
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  it('closes the socket with 1009 on frames over 64 KiB', async () => {
    const { socket, closed } = await rawSocket(server.wsUrl);
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(70 * 1024) } }));
    expect((await closed).code).toBe(1009);
  });

  it('closes a socket that never sends connection_init (4408)', async () => {
    const { closed } = await rawSocket(server.wsUrl);
    expect((await closed).code).toBe(4408);
  });

  it('closes a socket that subscribes before the ack (4401)', async () => {
    const { socket, closed } = await rawSocket(server.wsUrl);
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } }));
    expect((await closed).code).toBe(4401);
  });

  it('closes a socket that reuses an operation id (4409)', async () => {
    const { socket, closed, messages } = await rawSocket(server.wsUrl);
    socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await waitForMessage(messages, (m) => m.type === 'connection_ack');
    // A long-running operation would be better; two subscribe frames back to back reach the
    // server before the first completes.
    const subscribe = JSON.stringify({ id: 'same', type: 'subscribe', payload: { query: '{ __typename }' } });
    socket.send(subscribe);
    socket.send(subscribe);
    expect((await closed).code).toBe(4409);
  });

  it('rejects a bad token with 4403 and leaves the server healthy', async () => {
    const bad = connectWs(server.wsUrl, 'not-a-real-token-but-long-enough-000000');
    expect(await bad.closed).toBe(4403);
    expect((await gql(server.url, '{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('answers malformed and over-limit documents with errors, keeping the socket open', async () => {
    const user = await createUser(server.app);
    const client = connectWs(server.wsUrl, user.token);
    const syntax = await client.subscribe('{ me { id }').next();
    expect(syntax.errors?.[0].message).toMatch(/Syntax Error/);
    const aliases = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    expect((await client.subscribe(aliases).next()).errors?.[0].message).toMatch(/alias/i);
    const costly = `{ ${Array.from({ length: 15 }, (_, i) => `m${i}: me { id username displayName bio createdAt }`).join(' ')} }`;
    expect((await client.subscribe(costly).next()).errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect((await client.subscribe('{ me { id } }').next()).data).toEqual({ me: { id: user.id } });
  });

  it('bounds the connections per user', async () => {
    const user = await createUser(server.app);
    const first = connectWs(server.wsUrl, user.token);
    const second = connectWs(server.wsUrl, user.token);
    await first.subscribe('{ __typename }').next();
    await second.subscribe('{ __typename }').next();
    const third = connectWs(server.wsUrl, user.token);
    expect([4430, 4403]).toContain(await third.closed);
    await first.dispose();
    // A slot is free again once a connection closes.
    const fourth = connectWs(server.wsUrl, user.token);
    expect((await fourth.subscribe('{ __typename }').next()).data).toEqual({ __typename: 'Query' });
  });

  it('refuses WebSocket upgrades from origins outside ALLOWED_ORIGINS', async () => {
    await expect(rawSocket(server.wsUrl, { origin: 'http://evil.example.test' })).rejects.toThrow(/upgrade refused: 401|upgrade refused: 403/);
    const allowed = await rawSocket(server.wsUrl, { origin: 'http://chat.example.test' });
    allowed.socket.close();
  });
});
