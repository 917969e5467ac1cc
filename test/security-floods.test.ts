// Attack families that cost the server more than they cost the attacker (issue 14): variable
// floods (a small request answered with megabytes of errors), requests naming no operation,
// and production rules over graphql-ws. Every answer is a contract error, bounded in size,
// with nothing in the error log and no unhandled rejection in this process (which hosts the app).
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { resetState } from './helpers/db';
import { createUser } from './helpers/factories';
import { disposeAllWsClients } from './helpers/ws';
import { closeRawSockets, type CrashRecorder, errorLogRows, expectContractErrors, expectHealthy, installCrashRecorder, rawSocket } from './helpers/security';

const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }';
const HISTORY = 'query($c: ID!, $first: Int) { messages(channelId: $c, first: $first) { edges { cursor } } }';

/** 7,000 keys the input type does not define (about 69 KB of JSON). */
function unknownKeys(count = 7000): Record<string, string> {
  const input: Record<string, string> = {};
  for (let i = 0; i < count; i += 1) input[`k${i}`] = 'v';
  return input;
}

/**
 * Variable floods, each under WS_MAX_PAYLOAD_BYTES (64 KiB) so both transports read them:
 * tens of KB whose errors must stay a few hundred bytes, with no part of the value repeated.
 */
const FLOODS: Array<[string, string, Record<string, unknown>]> = [
  ['4,000 unknown input fields', SEND, { input: unknownKeys(4000) }],
  ['an object of 4,000 keys where a String goes', SEND, { input: { channelId: '00000000-0000-0000-0000-000000000000', body: unknownKeys(4000) } }],
  ['a list of 3,000 objects where a String goes', SEND, { input: { channelId: 'x', body: Array.from({ length: 3000 }, (_, i) => ({ [`k${i}`]: i })) } }],
  ['an unknown field with a 50 KB name', SEND, { input: { channelId: 'x', body: 'b', ['k'.repeat(50_000)]: 1 } }],
  ['a 50 KB string where an ID goes', SEND, { input: { channelId: 'k'.repeat(50_000), body: 1 } }],
  ['a 50 KB string where an Int goes', HISTORY, { c: 'x', first: 'k'.repeat(50_000) }],
];

/** The bytes of a flood's value that must never come back: the keys and long strings it holds. */
const MARKERS = ['k2999', 'k'.repeat(200)];

function expectBoundedFloodAnswer(text: string): void {
  expect(text.length).toBeLessThan(2000);
  for (const marker of MARKERS) expect(text).not.toContain(marker);
}

describe('variable floods, unknown operations and production rules on both transports', () => {
  let server: TestApp;
  let crashes: CrashRecorder;

  beforeAll(async () => {
    crashes = installCrashRecorder();
    // Production rules: no introspection, no field suggestions.
    server = await startTestApp({ INTROSPECTION: 'false' });
    await resetState(server.app);
  });
  afterEach(async () => {
    expect(await errorLogRows(server.app)).toEqual([]);
    crashes.assertClean();
    closeRawSockets();
  });
  afterAll(async () => {
    await expectHealthy(server, await createUser(server.app));
    closeRawSockets();
    await disposeAllWsClients();
    await stopAllApps();
    crashes.uninstall();
  });

  describe('variable floods over HTTP: 400, a few BAD_USER_INPUT errors, no value repeated', () => {
    it.each<[string, string, Record<string, unknown>]>([...FLOODS, ['7,000 unknown input fields (69 KB)', SEND, { input: unknownKeys(7000) }]])('%s', async (_name, query, variables) => {
      const body = JSON.stringify({ query, variables });
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await response.text();
      expectBoundedFloodAnswer(text);
      expect(response.status).toBe(400);
      const answer = JSON.parse(text);
      expect(answer.errors.length).toBeGreaterThan(0);
      expect(answer.errors.length).toBeLessThanOrEqual(3);
      for (const error of answer.errors) expect(error.extensions.code).toBe('BAD_USER_INPUT');
      expectContractErrors(answer);
    });
  });

  describe('variable floods over graphql-ws: an error message of a few BAD_USER_INPUT errors, no value repeated', () => {
    it.each(FLOODS)('%s', async (_name, query, variables) => {
      const raw = await rawSocket(server.wsUrl);
      await raw.init();
      let frame = '';
      raw.socket.on('message', (data) => {
        if (!frame) frame = data.toString();
      });
      raw.send({ id: '1', type: 'subscribe', payload: { query, variables } });
      const error = await raw.waitFor((m) => m.id === '1' && m.type === 'error');
      expectBoundedFloodAnswer(frame);
      expect(error.payload.length).toBeGreaterThan(0);
      expect(error.payload.length).toBeLessThanOrEqual(3);
      for (const item of error.payload) expect(item.extensions.code).toBe('BAD_USER_INPUT');
      expectContractErrors({ errors: error.payload });
    });
  });

  describe('an operationName that names no operation: a client error, never an internal one', () => {
    const cases: Array<[string, string, string | undefined]> = [
      ['an unknown name', 'query A { __typename }', 'B'],
      ['a name for an anonymous operation', '{ __typename }', 'B'],
      ['no name with two operations', 'query A { __typename } query B { __typename }', undefined],
    ];

    it.each(cases)('HTTP: %s', async (_name, query, operationName) => {
      // Twice: the second run goes through the compiled-document path.
      for (let i = 0; i < 3; i += 1) {
        const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, operationName }) });
        const answer = (await response.json()) as { errors: Array<{ message: string; extensions: Record<string, any> }> };
        expect(response.status).toBe(400);
        expect(answer.errors).toHaveLength(1);
        expect(answer.errors[0].extensions.code).toBe('BAD_REQUEST');
        expectContractErrors(answer);
      }
    });

    it.each(cases)('graphql-ws: %s', async (_name, query, operationName) => {
      const raw = await rawSocket(server.wsUrl);
      await raw.init();
      for (let i = 0; i < 3; i += 1) {
        raw.send({ id: `${i}`, type: 'subscribe', payload: { query, operationName } });
        const error = await raw.waitFor((m) => m.id === `${i}` && m.type === 'error');
        expect(error.payload).toHaveLength(1);
        expect(error.payload[0].extensions.code).toBe('BAD_REQUEST');
      }
    });
  });
  describe('production rules (INTROSPECTION=false) hold over graphql-ws as over HTTP', () => {
    const documents: Array<[string, string]> = [
      ['__schema', '{ __schema { queryType { name } } }'],
      ['__type', '{ __type(name: "Query") { name fields { name } } }'],
      ['__schema nested in a fragment', 'query { ...F } fragment F on Query { __schema { types { name } } }'],
    ];

    it.each(documents)('introspection (%s) is refused on both transports', async (_name, query) => {
      const http = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      const httpAnswer = (await http.json()) as { errors: Array<{ message: string; extensions: Record<string, any> }> };
      expect(httpAnswer.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const raw = await rawSocket(server.wsUrl);
      await raw.init();
      raw.send({ id: '1', type: 'subscribe', payload: { query } });
      const answer = await raw.waitFor((m) => m.id === '1' && (m.type === 'error' || m.type === 'next'));
      expect(answer.type).toBe('error');
      expect(answer.payload[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(JSON.stringify(answer.payload)).not.toContain('"Query"');
    });

    it.each<[string, string, Record<string, unknown>]>([
      ['a misspelt field', '{ mee { id } }', {}],
      ['a misspelt argument', 'query { messages(channelI: "x") { edges { cursor } } }', {}],
      ['a misspelt input field', SEND, { input: { channelId: '00000000-0000-0000-0000-000000000000', bdy: 'x' } }],
    ])('no field suggestions for %s on either transport', async (_name, query, variables) => {
      const http = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      const httpText = await http.text();
      expect(http.status).toBe(400);
      expect(httpText).not.toContain('Did you mean');
      const raw = await rawSocket(server.wsUrl);
      await raw.init();
      raw.send({ id: '1', type: 'subscribe', payload: { query, variables } });
      const answer = await raw.waitFor((m) => m.id === '1' && (m.type === 'error' || m.type === 'next'));
      expect(answer.payload.length ?? answer.payload.errors.length).toBeGreaterThan(0);
      expect(JSON.stringify(answer.payload)).not.toContain('Did you mean');
    });
  });
});
