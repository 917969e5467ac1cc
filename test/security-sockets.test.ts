// Anonymous socket floods (issue 14, point 6): sockets that send connection_init without a
// token used to stay open forever, so 1,000 of them exhausted a 1,024-descriptor process.
// Now sockets per client address and anonymous sockets in total are capped (closed with
// 4430, logged at warn), and an anonymous socket that starts no operation is closed (4431).
import { Writable } from 'node:stream';
import pino from 'pino';
import { createApp, type App } from '../src/app';
import { ServerCloseCode } from '../src/realtime/close-code';
import { testConfig } from './helpers/app';
import { resetState } from './helpers/db';
import { createUser, type TestUser } from './helpers/factories';
import { closeRawSockets, type CrashRecorder, errorLogRows, installCrashRecorder, rawSocket, type RawSocket } from './helpers/security';
import { delay } from './helpers/ws';

interface Server {
  app: App;
  wsUrl: string;
  /** The app's log lines at warn and above. */
  warnings: Array<Record<string, unknown>>;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const warnings: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) warnings.push(JSON.parse(line));
      done();
    },
  });
  const app = await createApp(testConfig(env), { migrate: false, logger: pino({ level: 'warn' }, stream) });
  const { url } = await app.start();
  return { app, wsUrl: url.replace(/^http/, 'ws'), warnings };
}

/** Resolves with the close code if the socket closes within `ms`, else null. */
async function closedWithin(raw: RawSocket, ms: number): Promise<number | null> {
  return Promise.race([raw.closed.then(({ code }) => code), delay(ms).then(() => null)]);
}

/** An anonymous socket: connection_init without a token. Resolves with the socket, acknowledged or not. */
async function anonymous(url: string): Promise<RawSocket> {
  const raw = await rawSocket(url);
  raw.send({ type: 'connection_init', payload: {} });
  await Promise.race([raw.waitFor((m) => m.type === 'connection_ack', 5000).catch(() => undefined), raw.closed]);
  return raw;
}

describe('anonymous socket floods', () => {
  const servers: Server[] = [];
  let crashes: CrashRecorder;

  beforeAll(() => {
    crashes = installCrashRecorder();
  });
  afterEach(async () => {
    closeRawSockets();
    for (const server of servers.splice(0)) {
      expect(await errorLogRows(server.app)).toEqual([]);
      await server.app.stop();
    }
    crashes.assertClean();
  });
  afterAll(() => crashes.uninstall());

  async function server(env: Record<string, string>): Promise<Server> {
    const started = await startServer(env);
    servers.push(started);
    await resetState(started.app);
    return started;
  }

  it('sockets per client address are capped: the next one is closed with 4430 and logged; one closing makes room', async () => {
    const { wsUrl, warnings, app } = await server({ WS_MAX_CONNECTIONS_PER_ADDRESS: '5' });
    const user: TestUser = await createUser(app);
    const held = await Promise.all(Array.from({ length: 5 }, () => anonymous(wsUrl)));
    for (const raw of held) expect(await closedWithin(raw, 50)).toBeNull();
    // Anonymous or signed in, a sixth socket from the same address is refused.
    const sixth = await rawSocket(wsUrl);
    expect((await sixth.closed).code).toBe(ServerCloseCode.TooManyConnections);
    const signedIn = await rawSocket(wsUrl);
    expect((await signedIn.closed).code).toBe(ServerCloseCode.TooManyConnections);
    expect(warnings.some((line) => line.level === 40 && line.reason === 'per-address')).toBe(true);
    held[0].socket.close();
    await held[0].closed;
    const again = await rawSocket(wsUrl);
    await again.init({ authorization: `Bearer ${user.token}` });
    expect(await closedWithin(again, 100)).toBeNull();
  });

  it('a flood of 50 anonymous sockets holds at most WS_MAX_ANONYMOUS_CONNECTIONS; signed-in users still connect', async () => {
    const { wsUrl, warnings, app } = await server({ WS_MAX_ANONYMOUS_CONNECTIONS: '10' });
    const user = await createUser(app);
    const flood = await Promise.all(Array.from({ length: 50 }, () => anonymous(wsUrl)));
    const codes = await Promise.all(flood.map((raw) => closedWithin(raw, 300)));
    expect(codes.filter((code) => code === null)).toHaveLength(10);
    expect(codes.filter((code) => code === ServerCloseCode.TooManyConnections)).toHaveLength(40);
    expect(warnings.some((line) => line.level === 40 && line.reason === 'anonymous')).toBe(true);
    // Throttled: not one line per refusal.
    expect(warnings.filter((line) => line.reason === 'anonymous').length).toBeLessThan(5);
    const signedIn = await rawSocket(wsUrl);
    await signedIn.init({ authorization: `Bearer ${user.token}` });
    signedIn.send({ id: '1', type: 'subscribe', payload: { query: '{ me { id } }' } });
    expect((await signedIn.waitFor((m) => m.id === '1' && m.type === 'next')).payload).toEqual({ data: { me: { id: user.id } } });
  });

  it('an anonymous socket that starts no operation is closed with 4431; one that runs an operation, or a signed-in one, stays', async () => {
    const { wsUrl, app } = await server({ WS_ANONYMOUS_IDLE_MS: '300' });
    const user = await createUser(app);
    const idle = await anonymous(wsUrl);
    const busy = await anonymous(wsUrl);
    busy.send({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } });
    await busy.waitFor((m) => m.id === '1' && m.type === 'complete');
    const signedIn = await rawSocket(wsUrl);
    await signedIn.init({ authorization: `Bearer ${user.token}` });
    expect(await closedWithin(idle, 3000)).toBe(ServerCloseCode.AnonymousIdle);
    expect(await closedWithin(busy, 300)).toBeNull();
    expect(await closedWithin(signedIn, 10)).toBeNull();
  });
});
