import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { resetDatabase } from './helpers/db';
import { createUser } from './helpers/factories';
import { gqlOk } from './helpers/graphql';
import { CHANNEL_EVENTS, createChannel, INBOX, sendMessage, waitForStreams, waitUntil } from './helpers/realtime';
import { connectWs, disposeAllWsClients } from './helpers/ws';

// One instance with REDIS_URL unset: in-process pub/sub, typing throttle and presence counting.
describe('realtime without Redis (one instance)', () => {
  let server: TestApp;

  beforeAll(async () => {
    server = await startTestApp({ REDIS_URL: undefined });
  });
  beforeEach(() => resetDatabase(server.app.services.orm));
  afterAll(async () => {
    await disposeAllWsClients();
    await stopAllApps();
  });

  it('serves channel events, the inbox, throttled typing and presence in process', async () => {
    expect(server.app.services.redis).toBeNull();
    const owner = await createUser(server.app);
    const reader = await createUser(server.app);
    const channelId = await createChannel(server, owner.token, 'local');
    await gqlOk(server.url, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: channelId }, { token: reader.token });
    const online = async () =>
      (await gqlOk<{ user: { online: boolean } }>(server.url, 'query ($id: ID!) { user(id: $id) { online } }', { id: reader.id }, { token: owner.token })).user.online;
    expect(await online()).toBe(false);

    const ws = connectWs(server.wsUrl, reader.token);
    const events = ws.subscribe(CHANNEL_EVENTS, { channelId });
    const inbox = ws.subscribe(INBOX);
    await waitForStreams(server.app, 2);
    expect(await online()).toBe(true);

    const typing = 'mutation ($c: ID!) { setTyping(channelId: $c) }';
    await gqlOk(server.url, typing, { c: channelId }, { token: owner.token });
    await gqlOk(server.url, typing, { c: channelId }, { token: owner.token });
    const sent = await sendMessage(server, owner.token, channelId, 'no redis needed');
    await events.waitFor(2);
    expect(events.results.map((r) => r.data!.channelEvents.__typename)).toEqual(['UserTyping', 'MessageAdded']);
    expect((await inbox.next()).data!.inbox.message.id).toBe(sent.id);

    await ws.dispose();
    await waitUntil(async () => !(await online()), 'offline');
    await waitUntil(() => server.app.services.realtime.activeStreams === 0, 'streams cleaned up');
  });
});
