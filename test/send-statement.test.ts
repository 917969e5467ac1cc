import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { insertSendNotifications, sendNotificationsCtes } from '../src/attention/attention.queries';
import { createAppOrm } from '../src/database';
import { sendMessagesWith } from '../src/messages/message.queries';
import type { SqlClient } from '../src/shared/sql';
import { workerDatabaseUrl } from './helpers/app';

const MEMBERS = 300;

/**
 * The send statement's cost must not grow with the channel: a send reads its author's
 * membership, not the member list, unless it mentions @channel. Run in a database of its own
 * whose statistics are a running server's: members analyzed, message_channel_mentions never
 * (autovacuum does not analyze a table that stays this small), which is when a plain join
 * planned the member list first.
 */
describe('the send statement in a large channel', () => {
  const url = new URL(workerDatabaseUrl());
  const name = `${url.pathname.slice(1)}_send_plans`;
  const admin = new Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
  const scratchUrl = Object.assign(new URL(url), { pathname: `/${name}` }).toString();
  const db = new Client({ connectionString: scratchUrl });
  const sql: SqlClient = { query: async (text, values, statementName) => (await db.query({ text, values: values as unknown[] | undefined, name: statementName })).rows };
  const channelId = randomUUID();
  const userIds = Array.from({ length: MEMBERS }, () => randomUUID());
  const part = { name: 'send_messages_notified', ctes: sendNotificationsCtes };

  /** Rows of memberships this transaction has read so far. */
  const membershipRowsRead = async () => {
    const { rows } = await db.query(`select seq_tup_read + coalesce(idx_tup_fetch, 0) as rows from pg_stat_xact_user_tables where relname = 'memberships'`);
    return Number(rows[0]?.rows ?? 0);
  };

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
    const orm = await createAppOrm({ databaseUrl: scratchUrl });
    try {
      await orm.getMigrator().up();
    } finally {
      await orm.close(true);
    }
    await db.connect();
    await db.query(
      `insert into users (id, email, username, username_key, display_name, password_hash)
       select id, 'p' || n || '@x.test', 'plans_' || n, 'plans_' || n, 'P' || n, 'x' from unnest($1::uuid[]) with ordinality as u(id, n)`,
      [userIds],
    );
    await db.query(`insert into channels (id, name, kind, owner_id, member_count) values ($1, 'plans', 'PUBLIC', $2, $3)`, [channelId, userIds[0], MEMBERS]);
    await db.query(`insert into memberships (channel_id, user_id) select $1, unnest($2::uuid[])`, [channelId, userIds]);
    await db.query('analyze users, channels, memberships');
  });

  afterAll(async () => {
    await db.end().catch(() => undefined);
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });

  it('reads no member list for a send without @channel, also once the connection plans it generically', async () => {
    // PostgreSQL may switch a prepared statement to a generic plan after its fifth execution.
    for (let send = 1; send <= 8; send += 1) {
      await db.query('begin');
      try {
        const { rows } = await sendMessagesWith(sql, channelId, [{ id: randomUUID(), authorId: userIds[1], body: `hello ${send}`, clientMessageId: null, threadRootId: null }], part);
        expect(rows.map((row) => row.status)).toEqual(['created']);
        // The author's membership (send_messages reads and updates it: 3 rows), not the channel's 300 members.
        expect(await membershipRowsRead()).toBeLessThan(10);
      } finally {
        await db.query('rollback');
      }
    }
  });

  it('still notifies every member but the author for @channel', async () => {
    await db.query('begin');
    try {
      const messageId = randomUUID();
      await db.query(`insert into messages (id, channel_id, seq, author_id, body) values ($1, $2, 1, $3, '@channel hello')`, [messageId, channelId, userIds[1]]);
      await db.query(`insert into message_channel_mentions (message_id) values ($1)`, [messageId]);
      const notified = await insertSendNotifications(sql, channelId, [{ id: messageId, authorId: userIds[1], threadRootId: null }]);
      expect(notified).toHaveLength(MEMBERS - 1);
      expect(new Set(notified.map((row) => row.user_id))).toEqual(new Set(userIds.filter((id) => id !== userIds[1])));
      expect(notified.every((row) => row.kind === 'MENTION')).toBe(true);
    } finally {
      await db.query('rollback');
    }
  });
});
