import { startTestApp, describeWithRedis, type TestApp, useTwoTestServers } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { gqlOk } from './helpers/graphql';
import { CHANNEL_EVENTS, createChannel, INBOX, sendMessage, waitForStreams, waitUntil } from './helpers/realtime';
import { connectWs } from './helpers/ws';

// Two app instances in one process sharing PostgreSQL and Redis, as behind a load balancer.
describeWithRedis('realtime across instances', () => {
  let one: TestApp;
  let two: TestApp;
  useTwoTestServers((servers) => ([one, two] = servers));

  const mutate = (server: TestApp, token: string, query: string, variables: Record<string, unknown> = {}) => gqlOk(server.url, query, variables, { token });

  it('delivers to a subscriber on one instance what is sent through the other (channel events and inbox)', async () => {
    const sender = await createUser(one.app);
    const reader = await createUser(one.app);
    const channelId = await createChannel(one, sender.token, 'across');
    await mutate(one, reader.token, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: channelId });
    const ws = connectWs(two.wsUrl, reader.token);
    const events = ws.subscribe(CHANNEL_EVENTS, { channelId });
    const inbox = ws.subscribe(INBOX);
    await waitForStreams(two.app, 2);

    const sent = await sendMessage(one, sender.token, channelId, 'through instance one');
    const event = (await events.next()).data!.channelEvents;
    expect(event).toMatchObject({ __typename: 'MessageAdded', message: { id: sent.id, body: 'through instance one', author: { id: sender.id } } });
    expect((await inbox.next()).data!.inbox.message.id).toBe(sent.id);

    // Typing through instance two reaches a subscriber on instance one, throttled across both.
    const watcher = connectWs(one.wsUrl, sender.token);
    const watched = watcher.subscribe(CHANNEL_EVENTS, { channelId });
    await waitForStreams(one.app, 1);
    const typing = 'mutation ($c: ID!) { setTyping(channelId: $c) }';
    await mutate(two, reader.token, typing, { c: channelId });
    await mutate(one, reader.token, typing, { c: channelId });
    const marker = await sendMessage(two, sender.token, channelId, 'marker');
    await watched.waitFor(2);
    expect(watched.results.map((r) => r.data!.channelEvents.__typename)).toEqual(['UserTyping', 'MessageAdded']);
    expect(watched.results[1].data!.channelEvents.message.id).toBe(marker.id);
  });

  it('ends a stream on one instance when the viewer leaves through the other', async () => {
    const owner = await createUser(one.app);
    const member = await createUser(one.app);
    const channelId = await createChannel(one, owner.token, 'leave-across');
    await mutate(one, member.token, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: channelId });
    const ws = connectWs(two.wsUrl, member.token);
    const events = ws.subscribe(CHANNEL_EVENTS, { channelId });
    await waitForStreams(two.app, 1);
    await mutate(one, member.token, 'mutation ($c: ID!) { leaveChannel(channelId: $c) }', { c: channelId });
    await events.completed;
  });

  it('closes sockets on every instance when their session logs out, so nothing reaches them afterwards', async () => {
    const user = await createUser(one.app);
    const ws = connectWs(two.wsUrl, user.token);
    ws.subscribe(INBOX);
    await waitForStreams(two.app, 1);
    await mutate(one, user.token, 'mutation { logout }');
    expect(await ws.closed).toBe(4403);
    await waitUntil(() => two.app.services.realtime.activeStreams === 0, 'the stream cleaned up');
  });

  describe('presence', () => {
    const online = async (server: TestApp, viewer: TestUser, userId: string) =>
      (await gqlOk<{ user: { online: boolean } }>(server.url, 'query ($id: ID!) { user(id: $id) { online } }', { id: userId }, { token: viewer.token })).user
        .online;

    it('sees a connection on another instance, and turns false within the expiry when that instance dies without cleaning up', async () => {
      const viewer = await createUser(one.app);
      const subject = await createUser(one.app);
      // A doomed third instance with short presence timing, so its death shows in seconds.
      const doomed = await startTestApp();
      const ttlMs = 2000;
      doomed.app.services.realtime.presence.configure({ ttlMs, heartbeatMs: 250 });
      try {
        const ws = connectWs(doomed.wsUrl, subject.token);
        await waitUntil(() => online(one, viewer, subject.id), 'online as seen from instance one');
        // Heartbeats keep it online past the expiry.
        await new Promise((resolve) => setTimeout(resolve, ttlMs + 300));
        expect(await online(one, viewer, subject.id)).toBe(true);

        // The instance "dies": no more heartbeats, and its sockets close without any cleanup.
        doomed.app.services.realtime.presence.simulateCrash();
        await ws.dispose();
        expect(await online(two, viewer, subject.id)).toBe(true);
        // Within the expiry (plus a margin for a busy machine): the timeout fails the test otherwise.
        await waitUntil(async () => !(await online(two, viewer, subject.id)), 'offline after expiry', ttlMs + 3000);
      } finally {
        await doomed.stop();
      }
    });
  });

  it('resumes losslessly: concurrent senders on both instances, a subscriber that disconnects and resumes with its cursor gets every message exactly once, in history order', async () => {
    const senders = await Promise.all([1, 2, 3, 4].map(() => createUser(one.app)));
    const reader = await createUser(one.app);
    const channelId = await createChannel(one, senders[0].token, 'firehose');
    for (const sender of senders.slice(1)) await mutate(one, sender.token, 'mutation ($c: ID!) { joinChannel(channelId: $c) { id } }', { c: channelId });
    const perSender = 50;
    const total = senders.length * perSender;

    const received: Array<{ id: string; cursor: string }> = [];
    const collect = (results: Array<{ data?: any }>) =>
      results.filter((r) => r.data?.channelEvents?.__typename === 'MessageAdded').map((r) => ({ id: r.data.channelEvents.message.id, cursor: r.data.channelEvents.cursor }));

    let ws = connectWs(two.wsUrl, reader.token);
    let events = ws.subscribe(CHANNEL_EVENTS, { channelId });
    await waitForStreams(two.app, 1);

    let sentCount = 0;
    const sending = Promise.all(
      senders.map(async (sender, index) => {
        for (let i = 0; i < perSender; i += 1) {
          await sendMessage(index % 2 === 0 ? one : two, sender.token, channelId, `${sender.username} #${i}`);
          sentCount += 1;
        }
      }),
    );

    // Disconnect twice mid-stream, resuming each time on the other instance with the last cursor.
    for (const [threshold, next] of [
      [40, one],
      [110, two],
    ] as const) {
      await waitUntil(() => received.length + collect(events.results).length >= threshold, `${threshold} messages`, 20_000);
      await ws.dispose();
      received.push(...collect(events.results));
      // Let messages pile up while disconnected.
      const missedFrom = sentCount;
      await waitUntil(() => sentCount >= Math.min(total, missedFrom + 30), 'more sends while disconnected', 20_000);
      ws = connectWs(next.wsUrl, reader.token);
      events = ws.subscribe(CHANNEL_EVENTS, { channelId, after: received[received.length - 1].cursor });
    }
    await sending;
    await waitUntil(() => received.length + collect(events.results).length >= total, `all ${total} messages`, 20_000);
    received.push(...collect(events.results));

    // History, as a client reads it.
    const history: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { messages: { edges: Array<{ node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gqlOk(
        one.url,
        'query ($c: ID!, $after: String) { messages(channelId: $c, first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }',
        { c: channelId, after },
        { token: reader.token },
      );
      history.push(...page.messages.edges.map((edge) => edge.node.id));
      if (!page.messages.pageInfo.hasNextPage) break;
      after = page.messages.pageInfo.endCursor;
    }
    expect(history).toHaveLength(total);
    expect(new Set(received.map((r) => r.id)).size).toBe(received.length);
    expect(received.map((r) => r.id)).toEqual(history);
  }, 60_000);
});
