import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createAppOrm } from '../src/database';
import { migrationsList } from '../migrations';
import { workerDatabaseUrl } from './helpers/app';

describe('migrations', () => {
  it('agree with the entities: after migrating, the schema diff is empty', async () => {
    const orm = await createAppOrm({ databaseUrl: workerDatabaseUrl() });
    try {
      const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false });
      expect(diff.trim()).toBe('');
    } finally {
      await orm.close(true);
    }
  });

  it('lists every migration file in migrations/index.ts', () => {
    const files = fs
      .readdirSync(path.join(__dirname, '..', 'migrations'))
      .filter((file) => /^Migration\d+.*\.ts$/.test(file))
      .map((file) => file.replace(/\.ts$/, ''))
      .sort();
    expect(migrationsList.map((m) => m.name)).toEqual(files);
  });

  it('creates the public channel', async () => {
    const orm = await createAppOrm({ databaseUrl: workerDatabaseUrl() });
    try {
      const rows = await orm.em.getConnection().execute(`select name, kind from channels where name = 'public'`);
      expect(rows).toEqual([{ name: 'public', kind: 'PUBLIC' }]);
    } finally {
      await orm.close(true);
    }
  });

  it('20261202150000 fills the search vector of messages written before it, and its trigger keeps it current', async () => {
    // A database of its own, migrated to just before the search vector, holding messages.
    const url = new URL(workerDatabaseUrl());
    const name = `${url.pathname.slice(1)}_vector`;
    const admin = new Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
    await admin.connect();
    await admin.query(`drop database if exists "${name}"`);
    await admin.query(`create database "${name}"`);
    const scratchUrl = Object.assign(new URL(url), { pathname: `/${name}` }).toString();
    const orm = await createAppOrm({ databaseUrl: scratchUrl });
    const db = new Client({ connectionString: scratchUrl });
    try {
      await orm.getMigrator().up({ to: 'Migration20261201210000' });
      await db.connect();
      await db.query(`insert into users (id, email, username, username_key, display_name, password_hash) values (gen_random_uuid(), 'a@x.test', 'ana', 'ana', 'Ana', 'x')`);
      await db.query(`insert into channels (id, name, kind) values (gen_random_uuid(), 'old', 'PUBLIC')`);
      await db.query(
        `insert into messages (id, channel_id, author_id, seq, body)
         select gen_random_uuid(), (select id from channels where name = 'old'), (select id from users), g, case when g = 3 then null else 'the quick brown fox ' || g end
           from generate_series(1, 12) g`,
      );

      await orm.getMigrator().up();
      const matching = async (query: string) =>
        (await db.query(`select seq from messages where body_search @@ websearch_to_tsquery('english', $1) order by seq`, [query])).rows.map((row) => Number(row.seq));
      // Every old message with a body was filled (the tombstone stays empty), the expression index is gone.
      expect(await matching('"quick brown"')).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      const indexes = (await db.query(`select indexname from pg_indexes where tablename = 'messages' and indexname like 'messages_body_search%'`)).rows.map((row) => row.indexname);
      expect(indexes).toEqual(['messages_body_search_vector_index']);
      // The trigger: new messages and edits carry their vector, a tombstone none.
      await db.query(`insert into messages (id, channel_id, author_id, seq, body) select gen_random_uuid(), channel_id, author_id, 13, 'lazy dogs sleep' from messages where seq = 1`);
      expect(await matching('"lazy dog"')).toEqual([13]);
      await db.query(`update messages set body = 'lazy cats sleep' where seq = 13`);
      expect(await matching('"lazy dog"')).toEqual([]);
      expect(await matching('cat')).toEqual([13]);
      await db.query(`update messages set body = null where seq = 13`);
      expect(await matching('cat')).toEqual([]);
    } finally {
      await db.end().catch(() => undefined);
      await orm.close(true);
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  });

  it('20261203110000: the notification count triggers do nothing for a statement that changed no unread notification, and keep counting', async () => {
    const db = new Client({ connectionString: workerDatabaseUrl() });
    await db.connect();
    // Calls of notification_counts_apply in this transaction so far (track_functions counts them per transaction).
    const applied = async () => Number((await db.query(`select coalesce(sum(calls), 0) as calls from pg_stat_xact_user_functions where funcname = 'notification_counts_apply'`)).rows[0].calls);
    const unread = async (userId: string) => (await db.query(`select unread from notification_counts where user_id = $1`, [userId])).rows[0]?.unread ?? 0;
    try {
      await db.query('begin');
      await db.query(`set local track_functions = 'all'`);
      const user = (await db.query(`insert into users (id, email, username, username_key, display_name, password_hash) values (gen_random_uuid(), 'trig@x.test', 'trig_user', 'trig_user', 'Trig', 'x') returning id`)).rows[0].id as string;
      const channel = (await db.query(`insert into channels (id, name, kind) values (gen_random_uuid(), 'trig-channel', 'PUBLIC') returning id`)).rows[0].id as string;
      const message = (await db.query(`insert into messages (id, channel_id, author_id, seq, body) values (gen_random_uuid(), $1, $2, 1, 'hi') returning id`, [channel, user])).rows[0].id as string;

      // What every send without anyone to notify runs: an insert of no rows. And updates and deletes of none.
      await db.query(`insert into notifications (id, user_id, message_id, channel_id, kind) select gen_random_uuid(), $1, $2, $3, 'MESSAGE' where false`, [user, message, channel]);
      await db.query(`update notifications set read_at = now() where user_id = $1`, [user]);
      await db.query(`delete from notifications where user_id = $1`, [user]);
      expect(await applied()).toBe(0);

      await db.query(`insert into notifications (id, user_id, message_id, channel_id, kind) values (gen_random_uuid(), $1, $2, $3, 'MENTION')`, [user, message, channel]);
      expect(await applied()).toBe(1);
      expect(await unread(user)).toBe(1);
      await db.query(`update notifications set read_at = now() where user_id = $1`, [user]);
      expect(await applied()).toBe(2);
      expect(await unread(user)).toBe(0);
      // Marking read again, and deleting a read notification, change no count.
      await db.query(`update notifications set read_at = now() where user_id = $1`, [user]);
      await db.query(`delete from notifications where user_id = $1`, [user]);
      expect(await applied()).toBe(2);
      expect(await unread(user)).toBe(0);
    } finally {
      await db.query('rollback').catch(() => undefined);
      await db.end();
    }
  });
});
