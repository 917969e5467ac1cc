// Issue 14, point 5: the events of one message reach subscribers in commit order. Votes, an
// edit and a deletion fired at one message at once commit in some order under its row lock;
// whatever that order, the last event a subscriber holds for the message must be the state
// PostgreSQL ended with (a deleted body never reappears after MessageDeleted).
import { describeWithRedis, useTestServer } from './helpers/app';
import { createUser, type TestUser } from './helpers/factories';
import { gql } from './helpers/graphql';
import { DELETE, EDIT, publicChannelId, sendMessage, VOTE } from './helpers/messages';
import { waitForStreams } from './helpers/realtime';
import { connectWs } from './helpers/ws';

const EVENTS = `subscription ($channelId: ID!) {
  channelEvents(channelId: $channelId) {
    __typename
    ... on MessageAdded { message { id body } }
    ... on MessageUpdated { message { id body deleted upvotes downvotes } }
    ... on MessageDeleted { message { id body deleted upvotes downvotes } }
  }
}`;

type EventMessage = { id: string; body: string | null; deleted?: boolean; upvotes?: number; downvotes?: number };
type Event = { __typename: string; message: EventMessage };

/** Messages raced on at once per round, and rounds: 200 trials. */
const PER_ROUND = 20;
const ROUNDS = 10;

describeWithRedis('event order vs commit order (issue 14, point 5)', () => {
  const suite = useTestServer();
  let author: TestUser;
  let voters: TestUser[];
  let channelId: string;

  beforeEach(async () => {
    [author, ...voters] = await Promise.all([createUser(suite.server.app), createUser(suite.server.app), createUser(suite.server.app)]);
    channelId = await publicChannelId(suite.server.app);
  });

  it('the last event of each message, after votes, an edit and a deletion raced on it, is its committed state', async () => {
    const { url, wsUrl } = suite.server;
    const ws = connectWs(wsUrl, author.token);
    const events = ws.subscribe<{ channelEvents: Event }>(EVENTS, { channelId });
    await waitForStreams(suite.server.app, 1);
    // A first message seen live proves the stream delivers.
    await sendMessage(url, author.token, channelId, 'warm-up');
    await waitForBody(events.results, 'warm-up');

    const raced: Array<{ id: string; deletes: boolean }> = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const messages = await Promise.all(Array.from({ length: PER_ROUND }, (_, index) => sendMessage(url, author.token, channelId, `m-${round}-${index}`)));
      await Promise.all(
        messages.map((message, index) => {
          // Every other message is also deleted; the rest end edited, with both votes.
          const deletes = index % 2 === 0;
          raced.push({ id: message.id, deletes });
          const writes = [
            gql(url, EDIT, { id: message.id, body: `edited-${round}-${index}` }, { token: author.token }),
            gql(url, VOTE, { id: message.id, value: 'UP' }, { token: voters[0].token }),
            gql(url, VOTE, { id: message.id, value: 'DOWN' }, { token: voters[1].token }),
          ];
          if (deletes) writes.splice(index % 3, 0, gql(url, DELETE, { id: message.id }, { token: author.token }));
          return Promise.all(writes);
        }),
      );
    }
    // Every write above has published (the mutations answer after it); one publisher
    // connection keeps order, so once this one arrives every earlier event has too.
    await sendMessage(url, author.token, channelId, 'sentinel');
    await waitForBody(events.results, 'sentinel');

    const last = new Map<string, Event>();
    for (const result of events.results) {
      const event = result.data?.channelEvents;
      if (event && event.__typename !== 'MessageAdded') last.set(event.message.id, event);
    }
    const rows = await suite.server.app.services.sql.query<{ id: string; body: string | null; deleted: boolean; upvotes: number; downvotes: number }>(
      'select id, body, deleted_at is not null as deleted, upvotes, downvotes from messages where id = any($1::uuid[])',
      [raced.map((message) => message.id)],
    );
    const mismatches: string[] = [];
    for (const row of rows) {
      const event = last.get(row.id);
      const expected = row.deleted ? { type: 'MessageDeleted', body: null } : { type: 'MessageUpdated', body: row.body, upvotes: row.upvotes, downvotes: row.downvotes };
      const got = event && (row.deleted ? { type: event.__typename, body: event.message.body } : { type: event.__typename, body: event.message.body, upvotes: event.message.upvotes, downvotes: event.message.downvotes });
      if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches.push(`${row.id}: last event ${JSON.stringify(got)}, database ${JSON.stringify(expected)}`);
    }
    expect(rows).toHaveLength(ROUNDS * PER_ROUND);
    expect(raced.filter((message) => message.deletes).length).toBe((ROUNDS * PER_ROUND) / 2);
    expect(mismatches).toEqual([]);
    await ws.dispose();
    // About 10 s on an idle two-core machine; the bound is for loaded CI runners.
  }, 150_000);
});

async function waitForBody(results: ReadonlyArray<{ data?: { channelEvents: Event } }>, body: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!results.some((result) => result.data?.channelEvents.__typename === 'MessageAdded' && result.data.channelEvents.message.body === body)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the message ${body}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
