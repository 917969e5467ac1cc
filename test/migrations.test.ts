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
});
