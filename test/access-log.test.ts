import { Writable } from 'node:stream';
import pino from 'pino';
import { createApp, type App } from '../src/app';
import { testConfig } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { gql } from './helpers/graphql';
import { connectWs, disposeAllWsClients } from './helpers/ws';

/** A pino logger whose JSON lines are kept for the test to read. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info', base: undefined }, stream), lines };
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const LEVEL = { info: 30, warn: 40, error: 50 };

describe('access log', () => {
  let app: App;
  let url: string;
  let lines: Array<Record<string, any>>;
  let alice: TestUser;

  beforeAll(async () => {
    const captured = capturingLogger();
    lines = captured.lines;
    app = await createApp(testConfig(), { migrate: false, logger: captured.logger });
    url = (await app.start()).url;
    alice = await createUser(app);
  });
  afterAll(async () => {
    await disposeAllWsClients();
    await app.stop();
  });

  const requestLines = () => lines.filter((line) => line.requestId !== undefined && line.durationMs !== undefined);

  test('one line per request: request id, operation, status, duration, user id; never the token or the body', async () => {
    lines.length = 0;
    const secret = 'a very secret body value';
    const response = await gql(url, 'query Me($note: String) { me { id } users(search: $note, first: 1) { edges { cursor } } }', { note: secret }, { token: alice.token, headers: { 'x-request-id': 'req-test-1' } });
    expect(response.errors).toBeUndefined();
    await waitFor(() => requestLines().length === 1, 'the access-log line');
    const [line] = requestLines();
    expect(line).toMatchObject({ level: LEVEL.info, requestId: 'req-test-1', operation: 'Me', status: 200, userId: alice.id });
    expect(line!.durationMs).toEqual(expect.any(Number));
    const text = JSON.stringify(lines);
    expect(text).not.toContain(alice.token);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('authorization');
  });

  test('the level follows the outcome: warn for rejected requests and GraphQL errors', async () => {
    lines.length = 0;
    await gql(url, 'query Broken { nope }');
    await gql(url, 'query History { messages(channelId: "00000000-0000-0000-0000-000000000000") { edges { cursor } } }');
    await waitFor(() => requestLines().length === 2, 'two access-log lines');
    const [rejected, failed] = requestLines();
    expect(rejected).toMatchObject({ level: LEVEL.warn, operation: 'Broken', status: 400, userId: null, errorCodes: ['GRAPHQL_VALIDATION_FAILED'] });
    expect(failed).toMatchObject({ level: LEVEL.warn, operation: 'History', status: 200, errorCodes: ['UNAUTHENTICATED'] });
  });

  test('one line per WebSocket connection open and close, with the close code', async () => {
    lines.length = 0;
    const client = connectWs(url.replace(/^http/, 'ws'), alice.token);
    expect((await client.subscribe('{ __typename }').next()).data).toEqual({ __typename: 'Query' });
    await client.dispose();
    await waitFor(() => lines.some((line) => line.ws === 'close'), 'the close line');
    const open = lines.filter((line) => line.ws === 'open');
    const close = lines.filter((line) => line.ws === 'close');
    expect(open).toHaveLength(1);
    expect(close).toHaveLength(1);
    expect(close[0]).toMatchObject({ level: LEVEL.info, code: 1000, connection: open[0]!.connection });

    // A bad token: closed with 4403, logged at warn.
    lines.length = 0;
    const refused = connectWs(url.replace(/^http/, 'ws'), 'not-a-token');
    expect(await refused.closed).toBe(4403);
    await waitFor(() => lines.some((line) => line.ws === 'close'), 'the close line');
    expect(lines.find((line) => line.ws === 'close')).toMatchObject({ level: LEVEL.warn, code: 4403 });
    expect(JSON.stringify(lines)).not.toContain('not-a-token');
  });
});
