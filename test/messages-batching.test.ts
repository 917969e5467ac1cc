import { countQueries, resetState } from './helpers/db';
import { gqlOk } from './helpers/graphql';
import { startTestApp, stopAllApps, type TestApp } from './helpers/app';
import { createUser } from './helpers/factories';
import { publicChannelId, sendMessage } from './helpers/messages';
import { SendBatcher } from '../src/messages/send-batcher';
import type { SqlClient, SqlPool } from '../src/shared/sql';

/** Runs `fn` in a transaction that is then rolled back (nothing it wrote stays), and answers what `fn` answered. */
async function rolledBack<T>(sql: SqlPool, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
  const rollback = new Error('rollback');
  let result: T | undefined;
  const outcome = await sql
    .transaction(async (tx) => {
      result = await fn(tx);
      throw rollback;
    })
    .catch((error: unknown) => error);
  expect(outcome).toBe(rollback);
  return result as T;
}

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

  it("sends the next batch's statement before answering the batch before it", async () => {
    const alice = await createUser(server.app);
    const channelId = (await publicChannelId(server.app)).toLowerCase();
    const { sql } = server.app.services;
    const events: string[] = [];
    const stopListening = sql.onQuery((text) => {
      if (/\bsend_messages\(/.test(text)) events.push('statement');
    });
    const batcher = new SendBatcher(sql, async () => undefined);
    try {
      const send = (i: number) =>
        batcher.send(channelId, { authorId: alice.id, body: `in order ${i}`, clientMessageId: null, threadRootId: null }).then((result) => {
          events.push(`answered ${i}`);
          return result;
        });
      // An idle channel's send goes out at once; the three after it wait for the next batch.
      const results = await Promise.all([0, 1, 2, 3].map(send));
      const first = results[0].message.seq;
      expect(results.map((result) => result.message.seq)).toEqual([first, first + 1, first + 2, first + 3]);
      expect(events).toEqual(['statement', 'statement', 'answered 0', 'answered 1', 'answered 2', 'answered 3']);
    } finally {
      stopListening();
    }
  });

  it('keeps idempotency inside a batch: the same key sent at once stores one message', async () => {
    const alice = await createUser(server.app);
    const channelId = await publicChannelId(server.app);
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => sendMessage(server.url, alice.token, channelId, `same ${i}`, 'one-key')));
    expect(new Set(replies.map((message) => message.id)).size).toBe(1);
    const history = await gqlOk(server.url, 'query ($c: ID!) { messages(channelId: $c, last: 20) { edges { node { id } } } }', { c: channelId }, { token: alice.token });
    expect(history.messages.edges).toHaveLength(1);
  });

  it('looks a batch’s idempotency keys up one by one: a send into a long channel reads no other message’s key', async () => {
    const alice = await createUser(server.app);
    const channelId = await publicChannelId(server.app);
    await sendMessage(server.url, alice.token, channelId, 'joins the channel');
    const { sql } = server.app.services;
    const seeded = 3000;
    // Statistics from before the channel grew (as for any channel busier since the last ANALYZE).
    await sql.query('analyze messages');
    // A long channel: Alice's messages, every tenth with a key.
    await sql.query(
      `insert into messages (id, channel_id, seq, author_id, body, client_message_id)
       select gen_random_uuid(), $1, 1 + g, $2, 'seeded', case when g % 10 = 0 then 'seeded-' || g end from generate_series(1, $3::int) g`,
      [channelId, alice.id, seeded],
    );
    await sql.query('update channels set last_seq = last_seq + $2 where id = $1', [channelId, seeded]);
    // Through the API: a seeded key is still found (the first message answers, nothing stored).
    const repeated = await sendMessage(server.url, alice.token, channelId, 'again', 'seeded-20');
    const [first] = await sql.query<{ id: string }>(`select id from messages where channel_id = $1 and client_message_id = 'seeded-20'`, [channelId]);
    expect(repeated.id).toBe(first.id);

    // The statement itself, in a transaction rolled back: how many entries of the key index it
    // read, with the plan a busy connection settles on (generic, after its first five calls).
    const outcome = await rolledBack(sql, async (tx) => {
      await tx.query('set local plan_cache_mode = force_generic_plan');
      const rows = await tx.query<{ status: string; id: string }>(
        `select status, id from send_messages($1, array[gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid()], array[$2, $2, $2, $2]::uuid[],
           array['no key', 'new key', 'seeded key', 'new key again'], array[null, 'fresh', 'seeded-30', 'fresh'], array[null, null, null, null]::uuid[])`,
        [channelId, alice.id],
      );
      const [read] = await tx.query<{ entries: string }>(`select pg_stat_get_xact_tuples_returned('messages_channel_id_author_id_client_message_id_unique'::regclass) as entries`);
      return { rows, entries: Number(read.entries) };
    });
    expect(outcome.rows.map((row) => row.status)).toEqual(['created', 'created', 'repeat', 'repeat']);
    expect(outcome.rows[3].id).toBe(outcome.rows[1].id);
    // A few lookups (the keys, the insert's conflict checks), not the channel's 3,000 entries
    // (the join it replaced read every one of them, twice).
    expect(outcome.entries).toBeLessThan(50);
  });

  it('looks a batch up by its keys whatever the statistics said: a connection that planned the send on a small table scans no messages once it grew', async () => {
    const alice = await createUser(server.app);
    const channelId = await publicChannelId(server.app);
    await sendMessage(server.url, alice.token, channelId, 'joins the channel');
    const { sql } = server.app.services;
    const seeded = 3000;
    const send = (tx: SqlClient) =>
      tx.query<{ status: string }>(`select status from send_messages($1, array[gen_random_uuid()], array[$2]::uuid[], array['hello'], array[null], array[null]::uuid[])`, [channelId, alice.id]);
    const seqRead = async (tx: SqlClient) => {
      const [row] = await tx.query<{ read: string }>(`select pg_stat_get_xact_tuples_returned('messages'::regclass) as read`);
      return Number(row.read);
    };
    // On one connection, in a transaction rolled back: a send planned while the channel held one
    // message (statistics taken then, and the generic plan a busy connection settles on), then
    // the channel grows past what those statistics say, then another send.
    const outcome = await rolledBack(sql, async (tx) => {
      await tx.query('analyze messages');
      await tx.query('set local plan_cache_mode = force_generic_plan');
      await send(tx);
      await tx.query(
        `insert into messages (id, channel_id, seq, author_id, body)
         select gen_random_uuid(), $1, 1000 + g, $2, 'seeded' from generate_series(1, $3::int) g`,
        [channelId, alice.id, seeded],
      );
      await tx.query('update channels set last_seq = 1000 + $2 where id = $1', [channelId, seeded]);
      const before = await seqRead(tx);
      const rows = await send(tx);
      return { rows, read: (await seqRead(tx)) - before };
    });
    expect(outcome.rows.map((row) => row.status)).toEqual(['created']);
    // Rows read by sequential scans of messages during the second send: none (the plan made on
    // the small table read all 3,000 seeded messages to find the one it had just stored).
    expect(outcome.read).toBe(0);
  });
});
