import net from 'node:net';
import { ErrorLogEntry } from '../src/ops/error-log.entity';
import { errorCode, gql, gqlOk } from './helpers/graphql';
import { startTestApp, type TestApp, useTestServer } from './helpers/app';
import { createUser } from './helpers/factories';
import { connectWs } from './helpers/ws';

describe('foundation: the server over HTTP and graphql-ws', () => {
  const suite = useTestServer();
  let server: TestApp;

  beforeAll(() => {
    server = suite.server;
  });

  it('answers { __typename } on POST /graphql', async () => {
    const data = await gqlOk(server.url, '{ __typename }');
    expect(data).toEqual({ __typename: 'Query' });
  });

  it('answers /healthz and /readyz', async () => {
    const base = server.url.replace(/\/graphql$/, '');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('ready');
    expect(body.checks.postgres).toBe('ok');
  });

  it('gives each request an id, echoing a sane incoming one', async () => {
    const own = await gql(server.url, '{ __typename }', {}, { headers: { 'x-request-id': 'abc-123' } });
    expect(own.headers.get('x-request-id')).toBe('abc-123');
    const generated = await gql(server.url, '{ __typename }', {}, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports parse and validation errors with a code, not as internal errors', async () => {
    const parse = await gql(server.url, '{ __typename');
    expect(parse.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const validation = await gql(server.url, '{ noSuchField }');
    expect(validation.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses bodies over 100 KiB with 413', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ __typename } # ${'x'.repeat(110 * 1024)}` }),
    });
    expect(response.status).toBe(413);
  });

  it('answers headers over 16 KiB and malformed request lines with a JSON error, not a bare status line', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'a'.repeat(9000), 'x-request-id': 'b'.repeat(9000) },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(431);
    expect(await response.json()).toEqual({ errors: [{ message: expect.stringContaining('headers too large'), extensions: { code: 'BAD_REQUEST' } }] });

    const { port } = new URL(server.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({ errors: [{ message: 'Malformed HTTP request.', extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('masks unexpected errors as INTERNAL_SERVER_ERROR with an errorId, stores them, and leaks nothing', async () => {
    const user = await createUser(server.app);
    const connection = server.app.services.orm.em.getConnection();
    // Break the schema under the running server so the next query fails inside the ORM.
    await connection.execute('alter table users rename column display_name to display_name_broken');
    try {
      const response = await gql(server.url, '{ me { id displayName } }', {}, { token: user.token });
      expect(errorCode(response)).toBe('INTERNAL_SERVER_ERROR');
      const error = response.errors![0];
      expect(error.message).toBe('Internal server error.');
      expect(JSON.stringify(error)).not.toMatch(/display_name|select|stack|at /i);
      const errorId = error.extensions?.errorId as string;
      expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
      await server.app.services.errors.flush();
      const stored = await server.app.services.orm.em.fork().findOneOrFail(ErrorLogEntry, { id: errorId });
      expect(stored.operation).toBe('Query.me');
      expect(stored.userId).toBe(user.id);
      expect(stored.message).toMatch(/display_name/);
      expect(stored.stack).toBeTruthy();
    } finally {
      await connection.execute('alter table users rename column display_name_broken to display_name');
    }
  });

  it('masks errors the same way over graphql-ws', async () => {
    const user = await createUser(server.app);
    const connection = server.app.services.orm.em.getConnection();
    await connection.execute('alter table users rename column display_name to display_name_broken');
    const ws = connectWs(server.wsUrl, user.token);
    try {
      const subscription = ws.subscribe('{ me { id displayName } }');
      const result = await subscription.next();
      expect(result.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(result.errors?.[0].extensions?.errorId).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(result.errors)).not.toMatch(/display_name|select/i);
    } finally {
      await connection.execute('alter table users rename column display_name_broken to display_name');
      await ws.dispose();
    }
  });

  it('authenticates graphql-ws connections and closes a bad token with 4403', async () => {
    const user = await createUser(server.app);
    const good = connectWs(server.wsUrl, user.token);
    const me = await good.subscribe('{ me { id } }').next();
    expect(me.data).toEqual({ me: { id: user.id } });
    await good.dispose();

    const bad = connectWs(server.wsUrl, 'x'.repeat(43));
    expect(await bad.closed).toBe(4403);
  });

  it('runs two app instances side by side in one process', async () => {
    const second = await startTestApp();
    try {
      expect(second.port).not.toBe(server.port);
      const user = await createUser(server.app);
      const [a, b] = await Promise.all([
        gqlOk(server.url, '{ me { id } }', {}, { token: user.token }),
        gqlOk(second.url, '{ me { id } }', {}, { token: user.token }),
      ]);
      expect(a).toEqual({ me: { id: user.id } });
      expect(b).toEqual(a);
    } finally {
      await second.stop();
    }
    // The first keeps serving after the second stopped.
    expect(await gqlOk(server.url, '{ __typename }')).toEqual({ __typename: 'Query' });
  });
});
