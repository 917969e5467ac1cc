// Edit history (issue 15, area conversations): every edit keeps the body it replaces, newest
// first; a deleted message answers with none and keeps none. And the cost of a history page
// selecting thread summaries and edits.
import { useTestServer, type TestApp } from './helpers/app';
import { countRows } from './helpers/channels';
import { createUser, type TestUser } from './helpers/factories';
import { gql, gqlOk } from './helpers/graphql';
import { publicChannelId } from './helpers/messages';
import { waitForStreams } from './helpers/realtime';
import { connectWs } from './helpers/ws';

const SEND = 'mutation ($c: ID!, $b: String!) { sendMessage(input: { channelId: $c, body: $b }) { id edits { body } } }';
const EDIT = 'mutation ($m: ID!, $b: String!) { editMessage(messageId: $m, body: $b) { id body editedAt edits { body editedAt } } }';
const DELETE = 'mutation ($m: ID!) { deleteMessage(messageId: $m) { id deleted edits { body } } }';
const HISTORY_EDITS = 'query ($c: ID!) { messages(channelId: $c, last: 20) { edges { node { id body edits { body editedAt } } } } }';

describe('edit history', () => {
  const suite = useTestServer();
  let server: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let channelId: string;

  beforeAll(() => {
    server = suite.server;
  });
  beforeEach(async () => {
    [alice, bob] = await Promise.all([createUser(server.app), createUser(server.app)]);
    channelId = await publicChannelId(server.app);
  });

  it('keeps every earlier body, newest first, for every reader', async () => {
    const sent = (await gqlOk(server.url, SEND, { c: channelId, b: 'first' }, { token: alice.token })).sendMessage;
    expect(sent.edits).toEqual([]);
    const once = (await gqlOk(server.url, EDIT, { m: sent.id, b: 'second' }, { token: alice.token })).editMessage;
    expect(once.edits.map((edit: { body: string }) => edit.body)).toEqual(['first']);
    expect(once.edits[0].editedAt).toBe(once.editedAt);
    const twice = (await gqlOk(server.url, EDIT, { m: sent.id, b: 'third' }, { token: alice.token })).editMessage;
    expect(twice.body).toBe('third');
    expect(twice.edits.map((edit: { body: string }) => edit.body)).toEqual(['second', 'first']);
    expect(new Date(twice.edits[0].editedAt).getTime()).toBeGreaterThanOrEqual(new Date(twice.edits[1].editedAt).getTime());
    // Bob reads the same history in the channel's history.
    const history = await gqlOk(server.url, HISTORY_EDITS, { c: channelId }, { token: bob.token });
    const node = history.messages.edges.find((edge: { node: { id: string } }) => edge.node.id === sent.id).node;
    expect(node.edits.map((edit: { body: string }) => edit.body)).toEqual(['second', 'first']);
    // Someone else's edit is refused and adds nothing.
    expect((await gql(server.url, EDIT, { m: sent.id, b: 'hijack' }, { token: bob.token })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await countRows(server.app, 'select count(*) from message_edits where message_id = ?', [sent.id])).toBe(2);
  });

  it('a deleted message answers empty edits and keeps none', async () => {
    const sent = (await gqlOk(server.url, SEND, { c: channelId, b: 'v1' }, { token: alice.token })).sendMessage;
    await gqlOk(server.url, EDIT, { m: sent.id, b: 'v2' }, { token: alice.token });
    await gqlOk(server.url, EDIT, { m: sent.id, b: 'v3' }, { token: alice.token });
    expect(await countRows(server.app, 'select count(*) from message_edits where message_id = ?', [sent.id])).toBe(2);
    const deleted = (await gqlOk(server.url, DELETE, { m: sent.id }, { token: alice.token })).deleteMessage;
    expect(deleted).toMatchObject({ deleted: true, edits: [] });
    expect(await countRows(server.app, 'select count(*) from message_edits where message_id = ?', [sent.id])).toBe(0);
    const history = await gqlOk(server.url, HISTORY_EDITS, { c: channelId }, { token: bob.token });
    expect(history.messages.edges.find((edge: { node: { id: string } }) => edge.node.id === sent.id).node.edits).toEqual([]);
  });

  it('an edit reaches channelEvents as MessageUpdated with its history', async () => {
    const sent = (await gqlOk(server.url, SEND, { c: channelId, b: 'live' }, { token: alice.token })).sendMessage;
    const ws = connectWs(server.wsUrl, bob.token);
    const events = ws.subscribe('subscription ($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageUpdated { message { id body edits { body } } } } }', { c: channelId });
    await waitForStreams(server.app, 1);
    await gqlOk(server.url, EDIT, { m: sent.id, b: 'edited live' }, { token: alice.token });
    await events.waitFor(1);
    expect(events.results[0].data!.channelEvents).toEqual({ __typename: 'MessageUpdated', message: { id: sent.id, body: 'edited live', edits: [{ body: 'live' }] } });
  });

  it('a history page of 20 selecting thread summaries (with participants) and edits passes the default cost limit', async () => {
    const root = (await gqlOk(server.url, SEND, { c: channelId, b: 'root' }, { token: alice.token })).sendMessage;
    await gqlOk(server.url, 'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { channelId, body: 'reply', threadId: root.id } }, { token: bob.token });
    const query = `query ($c: ID!) { messages(channelId: $c, last: 20) { edges { cursor node {
      id body editedAt author { id username displayName } edits { body editedAt }
      thread { replyCount lastReplyAt following unreadCount participants { id username displayName } root { id } }
    } } pageInfo { hasNextPage hasPreviousPage } } }`;
    const response = await gql(server.url, query, { c: channelId }, { token: alice.token });
    expect(response.errors).toBeUndefined();
    expect(response.data!.messages.edges.at(-1).node.thread.participants).toEqual([expect.objectContaining({ id: bob.id })]);
  });
});
