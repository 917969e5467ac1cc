// Memory an anonymous client can pin (issue 14, point 7): whatever the server caches is
// bounded in bytes, and what runs once is not cached at all. An anonymous socket sends
// operations with distinct 60 KB variables and distinct 60 KB query texts (a comment is no
// token, so the token limit does not stop them); the heap of this process, which hosts the
// app, must not keep them.
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { resetState } from './helpers/db';
import { collectGarbage } from './helpers/memory';
import { disposeAllWsClients } from './helpers/ws';
import { closeRawSockets, type CrashRecorder, errorLogRows, expectHealthy, installCrashRecorder, rawSocket, type RawSocket } from './helpers/security';

/** A full collection, then the heap in use (v8's gc, exposed at run time). */
function heapAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

const PAD = 60_000;
const MB = 1024 * 1024;

describe('cache pinning: distinct 60 KB variables and query texts do not stay in memory', () => {
  let server: TestApp;
  let crashes: CrashRecorder;

  beforeAll(async () => {
    crashes = installCrashRecorder();
    server = await startTestApp({ WS_MAX_CONNECTIONS_PER_ADDRESS: '1000', WS_MAX_ANONYMOUS_CONNECTIONS: '1000' });
    await resetState(server.app);
  });
  afterAll(async () => {
    await expectHealthy(server);
    expect(await errorLogRows(server.app)).toEqual([]);
    crashes.assertClean();
    closeRawSockets();
    await disposeAllWsClients();
    await stopAllApps();
    crashes.uninstall();
  });

  /** Runs `count` operations on one anonymous socket, `batch` at a time, each answered by `next` then `complete`. */
  async function flood(raw: RawSocket, count: number, payload: (i: number) => { query: string; variables?: Record<string, unknown> }): Promise<void> {
    const batch = 25;
    for (let start = 0; start < count; start += batch) {
      const ids: string[] = [];
      for (let i = start; i < Math.min(count, start + batch); i += 1) {
        ids.push(`${i}`);
        raw.send({ id: `${i}`, type: 'subscribe', payload: payload(i) });
      }
      for (const id of ids) await raw.waitFor((m) => m.id === id && m.type === 'complete', 10_000);
      raw.messages.length = 0;
    }
  }

  it.each<[string, (i: number) => { query: string; variables?: Record<string, unknown> }]>([
    ['distinct variables the operation ignores', (i) => ({ query: '{ __typename }', variables: { pad: `${i}:${'x'.repeat(PAD)}` } })],
    ['distinct variables of a (refused) subscription', (i) => ({ query: 'subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }', variables: { c: '00000000-0000-0000-0000-000000000000', pad: `${i}:${'x'.repeat(PAD)}` } })],
    ['distinct query texts (a long comment)', (i) => ({ query: `{ __typename } # ${i}:${'x'.repeat(PAD)}` })],
  ])('%s: 600 operations of 60 KB pin less than 12 MB', async (_name, payload) => {
    const raw = await rawSocket(server.wsUrl);
    await raw.init();
    // Warm up (compiled documents, buffers), then measure.
    await flood(raw, 25, (i) => payload(i + 1_000_000));
    const before = heapAfterGc();
    await flood(raw, 600, payload);
    const growth = heapAfterGc() - before;
    expect(Math.round(growth / MB)).toBeLessThan(12);
  }, 120_000);
});
