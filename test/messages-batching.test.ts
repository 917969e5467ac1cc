import { countQueries, resetState } from './helpers/db';
import { gqlOk } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { createUser } from './helpers/factories';
import { publicChannelId, sendMessage } from './helpers/messages';

// Group commit: sends to one channel that arrive while a batch is committing share the next
// transaction (one statement: one lock, one multi-row INSERT, one WAL flush), with gapless seqs in order.
describe('sendMessage group commit', () => {
  let server: TestApp;
  beforeAll(async () => {
    server = await startTestApp();
  });
  beforeEach(() => resetState(server.app));
  afterAll(stopAllApps);

  it('stores concurrent sends to one channel in fewer transactions than messages, gapless and each exactly once', async () => {
    const users = await Promise.all([1, 2, 3, 4].map(() => createUser(server.app)));
    const channelId = await publicChannelId(server.app);
    const total = 60;
    const { result: sent, queries } = await countQueries(server.app, () =>
      Promise.all(Array.from({ length: total }, (_, i) => sendMessage(server.url, users[i % users.length].token, channelId, `batch ${i}`, i % 3 === 0 ? `key-${i}` : undefined))),
    );
    // Each batch is one autocommitted statement calling send_messages (see its migration).
    const transactions = queries.filter((sql) => /\bsend_messages\(/.test(sql)).length;
    expect(transactions).toBeGreaterThan(0);
    expect(transactions).toBeLessThan(total);
    const rows = await server.app.services.orm.em.getConnection().execute<{ id: string; seq: string }[]>('select id, seq from messages where channel_id = ? order by seq', [channelId]);
    expect(rows.map((row) => Number(row.seq))).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(sent.map((message) => message.id))).toEqual(new Set(rows.map((row) => row.id)));
  });

  it('keeps idempotency inside a batch: the same key sent at once stores one message', async () => {
    const alice = await createUser(server.app);
    const channelId = await publicChannelId(server.app);
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => sendMessage(server.url, alice.token, channelId, `same ${i}`, 'one-key')));
    expect(new Set(replies.map((message) => message.id)).size).toBe(1);
    const history = await gqlOk(server.url, 'query ($c: ID!) { messages(channelId: $c, last: 20) { edges { node { id } } } }', { c: channelId }, { token: alice.token });
    expect(history.messages.edges).toHaveLength(1);
  });
});
