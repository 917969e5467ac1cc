// GraphQL-over-HTTP requests no client library would send: each gets a 4xx JSON answer with a
// contract code, and the server stays healthy (no internal error logged, no unhandled rejection).
import { resetState } from './helpers/db';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { disposeAllWsClients } from './helpers/ws';
import { createUser } from './helpers/factories';
import { type CrashRecorder, errorLogRows, expectContractErrors, expectHealthy, installCrashRecorder } from './helpers/security';

describe('malformed GraphQL-over-HTTP requests', () => {
  let server: TestApp;
  let crashes: CrashRecorder;

  beforeAll(async () => {
    crashes = installCrashRecorder();
    server = await startTestApp();
    await resetState(server.app);
  });
  afterAll(async () => {
    await expectHealthy(server, await createUser(server.app));
    expect(await errorLogRows(server.app)).toEqual([]);
    crashes.assertClean();
  });
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
    crashes.uninstall();
  });

  it.each<[string, string, string?]>([
    ['a numeric query', '{"query": 1}'],
    ['variables as a string', '{"query":"{ __typename }","variables":"{}"}'],
    ['variables as an array', '{"query":"{ __typename }","variables":[1]}'],
    ['a numeric operationName', '{"query":"{ __typename }","operationName":5}'],
    ['extensions as a string', '{"query":"{ __typename }","extensions":"x"}'],
    ['an empty object', '{}'],
    ['an empty body', ''],
    ['null', 'null'],
    ['a JSON string', '"{ __typename }"'],
    ['a batch (disabled)', '[{"query":"{ __typename }"}]'],
    ['deeply nested arrays', `${'['.repeat(5000)}${']'.repeat(5000)}`],
    ['invalid JSON', '{"query": "{ __typename }"'],
    ['trailing garbage', '{"query":"{ __typename }"}garbage'],
    ['a NUL byte', '\u0000'],
    ['an unsupported charset', '{"query":"{ __typename }"}', 'application/json; charset=latin1'],
    ['application/graphql', '{ __typename }', 'application/graphql'],
    ['a form', 'query=%7B__typename%7D', 'application/x-www-form-urlencoded'],
  ])('%s: a 4xx JSON answer with a contract code', async (_name, body, contentType = 'application/json') => {
    // The preflight header lets non-JSON content types past CSRF prevention, to reach the parser.
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': contentType, 'apollo-require-preflight': 'true' }, body });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const answer = JSON.parse(await response.text());
    expect(answer.errors?.length).toBeGreaterThan(0);
    expectContractErrors(answer);
  });

  it('deeply nested variables the operation does not declare are ignored', async () => {
    const variables = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"query":"{ __typename }","variables":${variables}}` });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });
});
